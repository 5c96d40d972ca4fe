import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { auditEvents, users } from "@/db/schema";
import { createTestUser, unique } from "@/tests/fixtures";
import { hashPassword } from "./password";
import {
  accountRule,
  addressRule,
  attemptPasswordSignIn,
  listThrottledAccounts,
  unlockAccountSignIn,
} from "./sign-in-guard";

// The real argon2, counted: every path of a failed sign-in must run one real verification.
const argon2 = vi.hoisted(() => ({ verifiedHashes: [] as string[] }));
vi.mock("@node-rs/argon2", async (importOriginal) => {
  const real = await importOriginal<typeof import("@node-rs/argon2")>();
  return {
    ...real,
    verify: (hash: string, password: string) => {
      argon2.verifiedHashes.push(hash);
      return real.verify(hash, password);
    },
  };
});

const password = "correct horse battery staple";
const seconds = (count: number) => count * 1000;

async function localUser({ disabled = false, withPassword = true } = {}) {
  const viewer = await createTestUser();
  await db()
    .update(users)
    .set({ passwordHash: withPassword ? await hashPassword(password) : null, disabledAt: disabled ? new Date() : null })
    .where(eq(users.id, viewer.id));
  return viewer;
}

/** A fresh address per test, so tests don't share an address counter. */
const anAddress = () =>
  `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

async function failedAudits(email: string) {
  return db()
    .select({ after: auditEvents.after, actorId: auditEvents.actorId })
    .from(auditEvents)
    .where(and(eq(auditEvents.action, "user.sign_in_failed"), eq(auditEvents.objectId, email)))
    .orderBy(auditEvents.id);
}

beforeEach(() => {
  argon2.verifiedHashes.length = 0;
});

describe("per-account throttle", () => {
  it("locks after five failures with growing delays, refuses even the right password meanwhile, and lets it in once the delay is over", async () => {
    const user = await localUser();
    const address = anAddress();
    const start = Date.now();
    const at = (ms: number) => new Date(start + ms);

    for (let failure = 1; failure <= 4; failure += 1) {
      expect(await attemptPasswordSignIn({ email: user.email, password: "wrong", address, now: at(0) })).toEqual({
        ok: false,
        throttled: null,
      });
    }
    // The fifth failure starts the first lock, and says so.
    expect(await attemptPasswordSignIn({ email: user.email, password: "wrong", address, now: at(0) })).toEqual({
      ok: false,
      throttled: { scope: "account", retryAfterSeconds: 1 },
    });
    const verificationsBefore = argon2.verifiedHashes.length;
    expect(await attemptPasswordSignIn({ email: user.email, password, address, now: at(500) })).toEqual({
      ok: false,
      throttled: { scope: "account", retryAfterSeconds: 1 },
    });
    expect(argon2.verifiedHashes.length, "a locked attempt is refused without looking at the password").toBe(
      verificationsBefore,
    );

    // Each further failure doubles the wait: 2 s, 4 s, 8 s …
    let clock = seconds(1) + 1;
    for (const wait of [2, 4, 8, 16]) {
      expect(await attemptPasswordSignIn({ email: user.email, password: "wrong", address, now: at(clock) })).toEqual({
        ok: false,
        throttled: { scope: "account", retryAfterSeconds: wait },
      });
      clock += seconds(wait) + 1;
    }

    const [row] = await listThrottledAccounts({ now: at(clock) }).then((rows) =>
      rows.filter((entry) => entry.email === user.email),
    );
    expect(row).toMatchObject({ email: user.email, userId: user.id, failures: 9, lastAddress: address });

    expect(await attemptPasswordSignIn({ email: user.email, password, address, now: at(clock) })).toMatchObject({
      ok: true,
      user: { id: user.id },
    });
    // A success forgets the failures: the next mistake is the first again.
    expect(
      await listThrottledAccounts({ now: at(clock) }).then((rows) => rows.some((entry) => entry.email === user.email)),
    ).toBe(false);
    expect(await attemptPasswordSignIn({ email: user.email, password: "wrong", address, now: at(clock) })).toEqual({
      ok: false,
      throttled: null,
    });
  });

  it("lets only five of a burst of parallel guesses be verified", async () => {
    const user = await localUser();
    const now = new Date();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        attemptPasswordSignIn({ email: user.email, password: "wrong", address: anAddress(), now }),
      ),
    );
    expect(argon2.verifiedHashes).toHaveLength(accountRule.lockAtFailure);
    expect(answers.filter((answer) => !answer.ok && answer.throttled === null)).toHaveLength(
      accountRule.lockAtFailure - 1,
    );
    expect(answers.filter((answer) => !answer.ok && answer.throttled?.scope === "account")).toHaveLength(
      20 - accountRule.lockAtFailure + 1,
    );
    const [row] = await listThrottledAccounts({ now }).then((rows) =>
      rows.filter((entry) => entry.email === user.email),
    );
    expect(row, "refused attempts are not counted").toMatchObject({ failures: accountRule.lockAtFailure });
  });

  it("does not count a successful sign-in against its address", async () => {
    const user = await localUser();
    const address = anAddress();
    const now = new Date();
    for (let attempt = 1; attempt <= addressRule.lockAtFailure + 5; attempt += 1) {
      expect(await attemptPasswordSignIn({ email: user.email, password, address, now })).toMatchObject({ ok: true });
    }
  });

  it("caps the delay at fifteen minutes", async () => {
    const user = await localUser();
    const address = anAddress();
    let clock = Date.now();
    let last: Awaited<ReturnType<typeof attemptPasswordSignIn>> | undefined;
    for (let failure = 1; failure <= 16; failure += 1) {
      last = await attemptPasswordSignIn({ email: user.email, password: "wrong", address, now: new Date(clock) });
      if (!last.ok && last.throttled) clock += seconds(last.throttled.retryAfterSeconds) + 1;
    }
    expect(last).toEqual({
      ok: false,
      throttled: { scope: "account", retryAfterSeconds: accountRule.maxLockMs / 1000 },
    });
  });

  it("throttles an email with no account exactly like one with an account", async () => {
    const email = `${unique("nobody")}@test.local`;
    const address = anAddress();
    const now = new Date();
    const answers = [];
    for (let failure = 1; failure <= 6; failure += 1)
      answers.push(await attemptPasswordSignIn({ email, password, address, now }));
    expect(answers.map((answer) => !answer.ok && answer.throttled)).toEqual([
      null,
      null,
      null,
      null,
      { scope: "account", retryAfterSeconds: 1 },
      { scope: "account", retryAfterSeconds: 1 },
    ]);
  });

  it("is lifted by an unlock, which is audited with what was forgotten", async () => {
    const user = await localUser();
    const admin = await createTestUser({ role: "admin" });
    const address = anAddress();
    const now = new Date();
    for (let failure = 1; failure <= 7; failure += 1)
      await attemptPasswordSignIn({ email: user.email, password: "wrong", address, now });
    expect(await attemptPasswordSignIn({ email: user.email, password, address, now })).toMatchObject({
      ok: false,
      throttled: { scope: "account" },
    });

    expect(await unlockAccountSignIn({ email: user.email.toUpperCase(), actorId: admin.id })).toEqual({
      unlocked: true,
    });
    expect(await attemptPasswordSignIn({ email: user.email, password, address, now })).toMatchObject({ ok: true });

    const [audit] = await db()
      .select({ actorId: auditEvents.actorId, before: auditEvents.before })
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "user.sign_in_unlock"), eq(auditEvents.objectId, user.email)));
    expect(audit).toMatchObject({ actorId: admin.id, before: { failures: 5, lastAddress: address } });
    expect(await unlockAccountSignIn({ email: user.email, actorId: admin.id })).toEqual({ unlocked: false });
  });
});

describe("per-address throttle", () => {
  it("stops one address spraying guesses across accounts, and not other addresses", async () => {
    const address = anAddress();
    const now = new Date();
    const target = await localUser();
    for (let failure = 1; failure < addressRule.lockAtFailure; failure += 1) {
      const answer = await attemptPasswordSignIn({
        email: `${unique("spray")}@test.local`,
        password: "guess",
        address,
        now,
      });
      expect(answer).toEqual({ ok: false, throttled: null });
    }
    expect(
      await attemptPasswordSignIn({ email: `${unique("spray")}@test.local`, password: "guess", address, now }),
    ).toEqual({
      ok: false,
      throttled: { scope: "address", retryAfterSeconds: addressRule.windowMs / 1000 },
    });
    // Even the right password of an untouched account waits, from that address only.
    expect(
      await attemptPasswordSignIn({
        email: target.email,
        password,
        address,
        now: new Date(now.getTime() + seconds(60)),
      }),
    ).toEqual({
      ok: false,
      throttled: { scope: "address", retryAfterSeconds: addressRule.windowMs / 1000 - 60 },
    });
    expect(await attemptPasswordSignIn({ email: target.email, password, address: anAddress(), now })).toMatchObject({
      ok: true,
    });
    // The window ends and the address may try again.
    expect(
      await attemptPasswordSignIn({
        email: target.email,
        password,
        address,
        now: new Date(now.getTime() + addressRule.windowMs + 1),
      }),
    ).toMatchObject({ ok: true });
  });
});

describe("shared counters", () => {
  it("counts failures made by another process and by concurrent requests together", async () => {
    const user = await localUser();
    const address = anAddress();
    // Another Node process (as a second web process or worker would be), on the same database.
    const script = `
      const { attemptPasswordSignIn } = await import("@/lib/auth/sign-in-guard");
      const { closeDb } = await import("@/db/client");
      for (let i = 0; i < 3; i += 1) await attemptPasswordSignIn({ email: ${JSON.stringify(user.email)}, password: "wrong", address: ${JSON.stringify(address)} });
      await closeDb();`;
    await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: process.env,
      cwd: process.cwd(),
    });

    const [row] = await listThrottledAccounts().then((rows) => rows.filter((entry) => entry.email === user.email));
    expect(row, "three failures are below the lock").toBeUndefined();
    // Two at once here reach five in all: the fifth locks, whichever of them it is. (A fixed clock,
    // so a slow machine can't outlast the one-second lock before the last call.)
    const now = new Date();
    const answers = await Promise.all(
      [1, 2].map(() => attemptPasswordSignIn({ email: user.email, password: "wrong", address, now })),
    );
    expect(answers.filter((answer) => !answer.ok && answer.throttled?.scope === "account")).toHaveLength(1);
    expect(await attemptPasswordSignIn({ email: user.email, password, address, now })).toMatchObject({
      ok: false,
      throttled: { scope: "account" },
    });
    const [locked] = await listThrottledAccounts().then((rows) => rows.filter((entry) => entry.email === user.email));
    expect(locked).toMatchObject({ failures: 5 });
  });
});

describe("failed attempts", () => {
  it("are audited with the email, address and reason, never the password", async () => {
    const known = await localUser();
    const disabled = await localUser({ disabled: true });
    const ssoOnly = await localUser({ withPassword: false });
    const unknownEmail = `${unique("nobody")}@test.local`;
    const address = anAddress();
    const secret = `typo-of-${password}`;
    await attemptPasswordSignIn({ email: known.email, password: secret, address });
    await attemptPasswordSignIn({ email: disabled.email, password, address });
    await attemptPasswordSignIn({ email: ssoOnly.email, password: secret, address });
    await attemptPasswordSignIn({ email: unknownEmail, password: secret, address });

    const reasons = [];
    for (const email of [known.email, disabled.email, ssoOnly.email, unknownEmail]) {
      const rows = await failedAudits(email);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.actorId).toBeNull();
      expect(JSON.stringify(rows[0]!.after)).not.toContain(password);
      reasons.push(rows[0]!.after);
    }
    expect(reasons).toEqual([
      { email: known.email, address, reason: "wrong_password" },
      { email: disabled.email, address, reason: "disabled" },
      { email: ssoOnly.email, address, reason: "no_password" },
      { email: unknownEmail, address, reason: "unknown_account" },
    ]);
  });

  it("audits a refused locked attempt as throttled, with until when", async () => {
    const email = `${unique("nobody")}@test.local`;
    const address = anAddress();
    const now = new Date();
    for (let failure = 1; failure <= 5; failure += 1)
      await attemptPasswordSignIn({ email, password: "wrong", address, now });
    await attemptPasswordSignIn({ email, password: "wrong", address, now });
    const rows = await failedAudits(email);
    expect(rows.at(-1)!.after).toEqual({
      email,
      address,
      reason: "throttled",
      lockedScope: "account",
      lockedUntil: new Date(now.getTime() + 1000).toISOString(),
    });
  });

  it("each run one real argon2 verification with real hash parameters, whether or not the account exists, has a password or is disabled", async () => {
    const known = await localUser();
    const [{ passwordHash }] = (await db()
      .select({ passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, known.id))) as [{ passwordHash: string }];
    const parameters = (hash: string) => hash.split("$").slice(1, 4).join("$");
    const disabled = await localUser({ disabled: true });
    const ssoOnly = await localUser({ withPassword: false });
    for (const email of [known.email, disabled.email, ssoOnly.email, `${unique("nobody")}@test.local`]) {
      argon2.verifiedHashes.length = 0;
      expect(await attemptPasswordSignIn({ email, password: "wrong", address: anAddress() })).toEqual({
        ok: false,
        throttled: null,
      });
      expect(argon2.verifiedHashes, email).toHaveLength(1);
      expect(parameters(argon2.verifiedHashes[0]!), email).toBe(parameters(passwordHash));
    }
    expect(parameters(passwordHash)).toBe("argon2id$v=19$m=19456,t=2,p=1");
  });
});
