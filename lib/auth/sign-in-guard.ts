// Password sign-in that resists guessing. Failures are counted per account (the email tried) and
// per client address in PostgreSQL (db/queries/sign-in.ts), so the limits hold across every Hangar
// process. We keep our own table instead of rate-limiter-flexible's PostgreSQL store: growing
// delays need the failure count to survive a lock (its block() resets the count), the admin list
// needs the last address and the lock time in columns we can query, and its runtime CREATE TABLE
// would race between processes outside our migrations.
//
// Each attempt is counted as a failure before its password is checked (and given back if it
// succeeds), so a burst of parallel guesses meets the limit instead of all passing a check made
// before any of them failed. Every failed attempt costs the same work, whatever the reason: one
// argon2 verification (against a dummy hash when there is no usable one), one reservation and one
// audit row. So neither the answer, nor its time, nor a lock tells whether an account exists.
import { randomBytes } from "node:crypto";
import { recordAudit } from "@/db/queries/audit";
import {
  clearAccountFailures,
  getPasswordAccount,
  getSignInLocks,
  listLockedAccounts,
  releaseAttempt,
  reserveSignInAttempt,
  type ThrottleRule,
} from "@/db/queries/sign-in";
import { hashPassword, verifyPassword } from "./password";
import type { ThrottleScope } from "./sign-in-messages";

const minute = 60_000;

/** Five failures in a row are free; from the fifth on each locks 1 s, 2 s, 4 s … up to 15 min. A day without failures forgives. */
export const accountRule = {
  kind: "growing",
  quietMs: 24 * 60 * minute,
  lockAtFailure: 5,
  firstLockMs: 1000,
  maxLockMs: 15 * minute,
} as const satisfies ThrottleRule;
/** Looser, to stop one address spraying guesses across many accounts: 20 failures per 15 minutes. */
export const addressRule = { kind: "window", windowMs: 15 * minute, lockAtFailure: 20 } as const satisfies ThrottleRule;

export type FailureReason = "unknown_account" | "no_password" | "disabled" | "wrong_password" | "throttled";

export type PasswordSignInResult =
  | { ok: true; user: { id: string; name: string | null; email: string } }
  | { ok: false; throttled: null }
  | { ok: false; throttled: { scope: ThrottleScope; retryAfterSeconds: number } };

let dummyHash: Promise<string> | undefined;

/** A real hash made with the same parameters as real ones, once per process, for accounts without one. */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString("base64url"));
  return dummyHash;
}

function laterLock(locks: {
  account: Date | null;
  address: Date | null;
}): { scope: ThrottleScope; until: Date } | null {
  const { account, address } = locks;
  if (account && (!address || account >= address)) return { scope: "account", until: account };
  return address ? { scope: "address", until: address } : null;
}

const secondsUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));

async function auditFailure(
  attempt: { email: string; address: string },
  reason: FailureReason,
  lock: { scope: ThrottleScope; until: Date } | null,
) {
  // The password is never recorded, not even a wrong one: it is often a typo of the real one.
  await recordAudit({
    actorId: null,
    action: "user.sign_in_failed",
    objectType: "sign_in",
    objectId: attempt.email,
    after: {
      email: attempt.email,
      address: attempt.address,
      reason,
      ...(lock ? { lockedScope: lock.scope, lockedUntil: lock.until.toISOString() } : {}),
    },
  });
}

/**
 * Checks an email and password, within the limits. `email` is already trimmed and lower-cased;
 * `address` comes from lib/auth/client-address.ts; `now` is the limiter's clock (tests move it).
 */
export async function attemptPasswordSignIn({
  email,
  password,
  address,
  now = new Date(),
}: {
  email: string;
  password: string;
  address: string;
  now?: Date;
}): Promise<PasswordSignInResult> {
  const attempt = { email, address };
  const addressCounter = { scope: "address", key: address, rule: addressRule } as const;
  const counted = await reserveSignInAttempt({
    counters: [{ scope: "account", key: email, rule: accountRule }, addressCounter],
    address,
    now,
  });
  if (!counted) {
    // Refused before the password is looked at, and not counted: a lock can't be made longer by
    // knocking, and the right password does not get through it either.
    const held = laterLock(await getSignInLocks({ email, address, now }));
    const lock = held ?? { scope: "account" as const, until: now };
    await auditFailure(attempt, "throttled", lock);
    return { ok: false, throttled: { scope: lock.scope, retryAfterSeconds: secondsUntil(lock.until, now) } };
  }

  const user = await getPasswordAccount({ email });
  const matches = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
  if (user?.passwordHash && !user.disabledAt && matches) {
    await Promise.all([clearAccountFailures({ email }), releaseAttempt({ counter: addressCounter })]);
    return { ok: true, user: { id: user.id, name: user.name, email: user.email } };
  }

  const reason: FailureReason = !user
    ? "unknown_account"
    : user.disabledAt
      ? "disabled"
      : !user.passwordHash
        ? "no_password"
        : "wrong_password";
  // The failure that starts a lock says so at once, rather than only the next attempt.
  const started = laterLock({
    account: counted.find((counter) => counter.scope === "account")?.lockedUntil ?? null,
    address: counted.find((counter) => counter.scope === "address")?.lockedUntil ?? null,
  });
  await auditFailure(attempt, reason, started);
  return started
    ? { ok: false, throttled: { scope: started.scope, retryAfterSeconds: secondsUntil(started.until, now) } }
    : { ok: false, throttled: null };
}

/**
 * Forgets an account's failed sign-ins so it may sign in at once. For the admin action and the
 * operator CLI (`npm run admin -- user unlock EMAIL`); `actorId` is null for the CLI. Audited when
 * there was something to forget.
 */
export async function unlockAccountSignIn({
  email,
  actorId,
}: {
  email: string;
  actorId: string | null;
}): Promise<{ unlocked: boolean }> {
  const key = email.trim().toLowerCase();
  const cleared = await clearAccountFailures({ email: key });
  if (!cleared) return { unlocked: false };
  await recordAudit({
    actorId,
    action: "user.sign_in_unlock",
    objectType: "sign_in",
    objectId: key,
    before: {
      failures: cleared.failures,
      lockedUntil: cleared.lockedUntil?.toISOString() ?? null,
      lastAddress: cleared.lastAddress,
    },
  });
  return { unlocked: true };
}

/** Accounts in the growing-delay regime (locked now, or locked again by their next failure). */
export function listThrottledAccounts({ now = new Date() }: { now?: Date } = {}) {
  return listLockedAccounts({
    minFailures: accountRule.lockAtFailure,
    since: new Date(now.getTime() - accountRule.quietMs),
  });
}
