// Password sign-in: the account a password is checked against, and the counters of failed
// attempts. An attempt is counted by atomic upserts in one short transaction, so several Hangar
// processes (or several requests at once) count together; the numbers of the policy come from
// lib/auth/sign-in-guard.ts.
import { and, desc, eq, gt, sql, type SQL } from "drizzle-orm";
import { db } from "../client";
import { signInThrottles, users, type SignInThrottleScope } from "../schema";

export type ThrottleRule =
  /** Consecutive failures, forgotten after `quietMs` without one; from the `lockAtFailure`-th on,
   *  each failure locks for `firstLockMs`, doubled per further failure, at most `maxLockMs`. */
  | { kind: "growing"; quietMs: number; lockAtFailure: number; firstLockMs: number; maxLockMs: number }
  /** At most `lockAtFailure` failures per window of `windowMs`; reaching it locks until the window ends. */
  | { kind: "window"; windowMs: number; lockAtFailure: number };

const t = signInThrottles;

/** The account an email signs in to (matched case-insensitively), disabled or not; null if none. */
export async function getPasswordAccount({ email }: { email: string }) {
  const [user] = await db()
    .select({
      id: users.id,
      name: users.name,
      email: users.email,
      passwordHash: users.passwordHash,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .where(sql`lower(${users.email}) = ${email}`)
    .limit(1);
  return user ?? null;
}

function lockExpression(rule: ThrottleRule, failures: SQL, windowStart: SQL, now: Date): SQL {
  if (rule.kind === "window") {
    return sql`case when ${failures} >= ${rule.lockAtFailure} then ${windowStart} + ${rule.windowMs} * interval '1 millisecond' end`;
  }
  // The exponent is capped before it is used so a long run of failures can't overflow the double.
  return sql`case when ${failures} >= ${rule.lockAtFailure} then ${now.toISOString()}::timestamptz + least(
    ${rule.firstLockMs}::float8 * power(2, least(${failures} - ${rule.lockAtFailure}, 40)), ${rule.maxLockMs}
  ) * interval '1 millisecond' end`;
}

/** A counter an attempt is counted on, with the rule that says when it locks. */
export interface ThrottleCounter {
  scope: SignInThrottleScope;
  key: string;
  rule: ThrottleRule;
}

class Refused extends Error {}

/**
 * Counts an attempt as a failure on every counter before its password is checked, unless one of
 * them is locked at `now` (then nothing is counted and null is returned). Counting first is what
 * makes a burst of parallel guesses meet the limit: each reservation is an atomic upsert, so the
 * fifth of a hundred concurrent attempts locks and the other ninety-five are refused unverified.
 * A successful attempt gives its reservation back (clearAccountFailures, releaseAttempt).
 */
export async function reserveSignInAttempt({
  counters,
  address,
  now,
}: {
  counters: ThrottleCounter[];
  address: string;
  now: Date;
}): Promise<{ scope: SignInThrottleScope; failures: number; lockedUntil: Date | null }[] | null> {
  const at = sql`${now.toISOString()}::timestamptz`;
  try {
    return await db().transaction(async (tx) => {
      const counted = [];
      for (const { scope, key, rule } of counters) {
        // A counter whose time is up starts again at one, in the same statement that increments it.
        const expired =
          rule.kind === "growing"
            ? sql`t.last_failure_at <= ${at} - ${rule.quietMs} * interval '1 millisecond'`
            : sql`t.window_started_at <= ${at} - ${rule.windowMs} * interval '1 millisecond'`;
        const failures = sql`(case when ${expired} then 1 else t.failures + 1 end)`;
        const windowStart = sql`(case when ${expired} then ${at} else t.window_started_at end)`;
        const result = await tx.execute<{ failures: number; locked_until: string | null }>(sql`
          insert into sign_in_throttles as t (scope, key, failures, window_started_at, last_failure_at, last_address, locked_until)
          values (${scope}, ${key}, 1, ${at}, ${at}, ${address}, ${lockExpression(rule, sql`1`, at, now)})
          on conflict (scope, key) do update set
            failures = ${failures},
            window_started_at = ${windowStart},
            last_failure_at = ${at},
            last_address = ${address},
            locked_until = ${lockExpression(rule, failures, windowStart, now)}
          where t.locked_until is null or t.locked_until <= ${at}
          returning failures, locked_until`);
        const row = result.rows[0];
        // Locked: undo whatever this attempt already counted on the other counters.
        if (!row) throw new Refused();
        counted.push({
          scope,
          failures: Number(row.failures),
          lockedUntil: row.locked_until ? new Date(row.locked_until) : null,
        });
      }
      return counted;
    });
  } catch (error) {
    if (error instanceof Refused) return null;
    throw error;
  }
}

/** Gives back an attempt's reservation on a counter that a success does not reset (the address). */
export async function releaseAttempt({ counter }: { counter: ThrottleCounter }): Promise<void> {
  const { scope, key, rule } = counter;
  await db().execute(sql`
    update sign_in_throttles set
      failures = greatest(failures - 1, 0),
      locked_until = case when failures - 1 >= ${rule.lockAtFailure} then locked_until end
    where scope = ${scope} and key = ${key}`);
}

/** The locks that hold at `now` on this account and this address (null where none). */
export async function getSignInLocks({ email, address, now }: { email: string; address: string; now: Date }) {
  const rows = await db()
    .select({ scope: t.scope, lockedUntil: t.lockedUntil })
    .from(t)
    .where(
      and(sql`(${t.scope}, ${t.key}) in (('account', ${email}), ('address', ${address}))`, gt(t.lockedUntil, now)),
    );
  const of = (scope: SignInThrottleScope) => rows.find((row) => row.scope === scope)?.lockedUntil ?? null;
  return { account: of("account"), address: of("address") };
}

/** Forgets an account's failures (a successful sign-in, or an admin's unlock); returns what was there. */
export async function clearAccountFailures({ email }: { email: string }) {
  const [row] = await db()
    .delete(t)
    .where(and(eq(t.scope, "account"), eq(t.key, email)))
    .returning({ failures: t.failures, lockedUntil: t.lockedUntil, lastAddress: t.lastAddress });
  return row ?? null;
}

export interface LockedAccountRow {
  email: string;
  /** Null when nobody has this email: guesses at unknown accounts are throttled the same way. */
  userId: string | null;
  failures: number;
  lastFailureAt: Date;
  /** Null or past when the next attempt may be made now (the next failure locks again, longer). */
  lockedUntil: Date | null;
  lastAddress: string | null;
}

/** Accounts whose failures reached the lock threshold and are not yet forgotten, newest first. */
export async function listLockedAccounts({
  minFailures,
  since,
  limit = 200,
}: {
  minFailures: number;
  /** Counters whose last failure is older than this are forgotten by the next attempt anyway. */
  since: Date;
  limit?: number;
}): Promise<LockedAccountRow[]> {
  return db()
    .select({
      email: t.key,
      userId: users.id,
      failures: t.failures,
      lastFailureAt: t.lastFailureAt,
      lockedUntil: t.lockedUntil,
      lastAddress: t.lastAddress,
    })
    .from(t)
    .leftJoin(users, sql`lower(${users.email}) = ${t.key}`)
    .where(and(eq(t.scope, "account"), sql`${t.failures} >= ${minFailures}`, gt(t.lastFailureAt, since)))
    .orderBy(desc(t.lastFailureAt))
    .limit(limit);
}
