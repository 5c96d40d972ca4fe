// Accounts on the real database: one-time links, disabling, the last-admin rule under concurrency,
// audit rows; and `npm run admin` spawned as an operator would run it, against the same database.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { and, count, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { attemptPasswordSignIn, listThrottledAccounts } from "@/lib/auth/sign-in-guard";
import { getPasswordLink, listUsers, resetUserPassword, setUserDisabled, setUserRole } from "@/db/queries/accounts";
import { getViewerById } from "@/db/queries/users";
import { auditEvents, passwordLinks, users } from "@/db/schema";
import { changeOwnPasswordAction, inviteUserAction, setPasswordWithLinkAction } from "@/lib/actions/account-actions";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { createTestUser, unique } from "./fixtures";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

const tokenOf = (link: string) => decodeURIComponent(new URL(link).pathname.split("/").pop()!);
const auditFor = (userId: string, action: string) =>
  db()
    .select({ n: count() })
    .from(auditEvents)
    .where(and(eq(auditEvents.objectId, userId), eq(auditEvents.action, action)))
    .then(([row]) => row!.n);
const passwordHashOf = async (email: string) =>
  (await db().select({ hash: users.passwordHash }).from(users).where(eq(users.email, email)))[0]?.hash ?? null;

async function invite(role: "admin" | "member" = "member") {
  const admin = await createTestUser({ role: "admin" });
  const email = `${unique("invitee")}@test.local`;
  const result = await inviteUserAction(admin, { email: email.toUpperCase(), name: "Invitee", role });
  if (!result.ok) throw new Error(result.message);
  expect(result.data.email).toBe(email);
  return { admin, ...result.data, token: tokenOf(result.data.link!) };
}

describe("invitations and set-password links", () => {
  it("creates the account with a link on the configured origin, stores only the token's hash, works once", async () => {
    const { admin, email, link, token, userId } = await invite();
    expect(link).toMatch(new RegExp(`^${process.env.AUTH_URL ?? "http://localhost:"}`));
    const stored = await db()
      .select({ tokenHash: passwordLinks.tokenHash })
      .from(passwordLinks)
      .where(eq(passwordLinks.userId, userId));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.tokenHash).not.toContain(token);
    expect(await getPasswordLink({ token })).toMatchObject({
      state: "valid",
      email,
      name: "Invitee",
      purpose: "invite",
    });
    expect(await auditFor(userId, "user.invite")).toBe(1);
    expect(
      (await listUsers({ actor: { kind: "viewer", viewer: admin }, search: email })).map((row) => [
        row.email,
        row.local,
        row.pendingLink?.purpose,
      ]),
    ).toEqual([[email, true, "invite"]]);

    const mismatch = await setPasswordWithLinkAction({
      token,
      password: "correct horse battery",
      confirm: "correct horse batterY",
    });
    expect(mismatch).toMatchObject({
      ok: false,
      code: "invalid",
      fieldErrors: { confirm: [expect.stringMatching(/not the same/)] },
    });
    const short = await setPasswordWithLinkAction({ token, password: "short", confirm: "short" });
    expect(short).toMatchObject({
      ok: false,
      code: "invalid",
      fieldErrors: { password: [expect.stringMatching(/at least 12/)] },
    });

    expect(
      await setPasswordWithLinkAction({ token, password: "correct horse battery", confirm: "correct horse battery" }),
    ).toEqual({ ok: true, data: { email } });
    expect(await verifyPassword((await passwordHashOf(email))!, "correct horse battery")).toBe(true);
    expect(await auditFor(userId, "user.password_set")).toBe(1);

    const again = await setPasswordWithLinkAction({
      token,
      password: "another password 1",
      confirm: "another password 1",
    });
    expect(again).toMatchObject({ ok: false, message: expect.stringMatching(/already used.*ask an admin/i) });
    expect(await verifyPassword((await passwordHashOf(email))!, "correct horse battery")).toBe(true);
    expect(await getPasswordLink({ token: "not-a-real-token-at-all" })).toEqual({
      state: "invalid",
      reason: "unknown",
    });
  });

  it("refuses an expired link, and an older link once a newer one is issued", async () => {
    const { token, userId, admin, email } = await invite();
    await db()
      .update(passwordLinks)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(passwordLinks.userId, userId));
    expect(await getPasswordLink({ token })).toEqual({ state: "invalid", reason: "expired" });
    expect(
      await setPasswordWithLinkAction({ token, password: "correct horse battery", confirm: "correct horse battery" }),
    ).toMatchObject({ ok: false, message: expect.stringMatching(/expired.*ask an admin/i) });
    expect(await passwordHashOf(email)).toBeNull();

    const first = await resetUserPassword({
      actor: { kind: "viewer", viewer: admin },
      target: { userId },
      lifetimeHours: 1,
    });
    const second = await resetUserPassword({
      actor: { kind: "viewer", viewer: admin },
      target: { userId },
      lifetimeHours: 1,
    });
    expect(await getPasswordLink({ token: first.token })).toEqual({ state: "invalid", reason: "used" });
    expect((await getPasswordLink({ token: second.token })).state).toBe("valid");
  });

  it("a reset ends the old password at once; the new link sets the next one; an SSO-only account is refused", async () => {
    const admin = await createTestUser({ role: "admin" });
    const user = await createTestUser();
    await db()
      .update(users)
      .set({ passwordHash: await hashPassword("the old password 1") })
      .where(eq(users.id, user.id));
    const issued = await resetUserPassword({
      actor: { kind: "viewer", viewer: admin },
      target: { userId: user.id },
      lifetimeHours: 72,
    });
    expect(await passwordHashOf(user.email)).toBeNull();
    expect(await auditFor(user.id, "user.password_reset")).toBe(1);
    expect(
      (
        await setPasswordWithLinkAction({
          token: issued.token,
          password: "the new password 2",
          confirm: "the new password 2",
        })
      ).ok,
    ).toBe(true);

    const sso = await createTestUser();
    await db().execute(
      sql`insert into accounts (user_id, type, provider, provider_account_id) values (${sso.id}, 'oidc', 'oidc', ${sso.id})`,
    );
    await expect(
      resetUserPassword({ actor: { kind: "viewer", viewer: admin }, target: { userId: sso.id }, lifetimeHours: 72 }),
    ).rejects.toThrow(/single sign-on/);
  });

  it("a disabled account's link doesn't work", async () => {
    const { admin, userId, token } = await invite();
    await setUserDisabled({ actor: { kind: "viewer", viewer: admin }, target: { userId }, disabled: true });
    expect(await getPasswordLink({ token })).toEqual({ state: "invalid", reason: "disabled" });
    expect(
      (await setPasswordWithLinkAction({ token, password: "correct horse battery", confirm: "correct horse battery" }))
        .ok,
    ).toBe(false);
  });
});

describe("disabling and the last active admin", () => {
  it("a disabled account has no session from the next request on, and comes back when enabled; both audited", async () => {
    const admin = await createTestUser({ role: "admin" });
    const user = await createTestUser();
    expect(await getViewerById({ id: user.id })).not.toBeNull();
    await setUserDisabled({ actor: { kind: "viewer", viewer: admin }, target: { userId: user.id }, disabled: true });
    expect(await getViewerById({ id: user.id })).toBeNull();
    await setUserDisabled({ actor: { kind: "viewer", viewer: admin }, target: { userId: user.id }, disabled: false });
    expect(await getViewerById({ id: user.id })).not.toBeNull();
    expect([await auditFor(user.id, "user.disable"), await auditFor(user.id, "user.enable")]).toEqual([1, 1]);
  });

  it("two admins demoting each other at once leave exactly one admin", async () => {
    // Every other active admin stops counting for this test: only these two are left.
    const [a, b] = await Promise.all([createTestUser({ role: "admin" }), createTestUser({ role: "admin" })]);
    const others = await db()
      .update(users)
      .set({ disabledAt: new Date() })
      .where(sql`role = 'admin' and disabled_at is null and id not in (${a.id}, ${b.id})`)
      .returning({ id: users.id });
    try {
      const results = await Promise.allSettled([
        setUserRole({ actor: { kind: "viewer", viewer: a }, target: { userId: b.id }, role: "member" }),
        setUserRole({ actor: { kind: "viewer", viewer: b }, target: { userId: a.id }, role: "member" }),
      ]);
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
      expect(String(refused.reason)).toMatch(/last active admin/);
      const admins = await db()
        .select({ id: users.id })
        .from(users)
        .where(sql`role = 'admin' and disabled_at is null`);
      expect(admins).toHaveLength(1);
      // Nor can the one left be disabled.
      const last = admins[0]!.id;
      await expect(
        setUserDisabled({ actor: { kind: "operator" }, target: { userId: last }, disabled: true }),
      ).rejects.toThrow(/last active admin/);
    } finally {
      for (const { id } of others) await db().update(users).set({ disabledAt: null }).where(eq(users.id, id));
    }
  });
});

describe("changing one's own password", () => {
  it("needs the current password; an SSO-only account is told its provider manages it", async () => {
    const user = await createTestUser();
    await db()
      .update(users)
      .set({ passwordHash: await hashPassword("my current password") })
      .where(eq(users.id, user.id));
    const wrong = await changeOwnPasswordAction(user, {
      currentPassword: "not it at all",
      password: "my next password 1",
      confirm: "my next password 1",
    });
    expect(wrong).toMatchObject({ ok: false, code: "invalid", fieldErrors: { currentPassword: [expect.any(String)] } });
    expect(await verifyPassword((await passwordHashOf(user.email))!, "my current password")).toBe(true);
    expect(
      (
        await changeOwnPasswordAction(user, {
          currentPassword: "my current password",
          password: "my next password 1",
          confirm: "my next password 1",
        })
      ).ok,
    ).toBe(true);
    expect(await verifyPassword((await passwordHashOf(user.email))!, "my next password 1")).toBe(true);
    expect(await auditFor(user.id, "user.password_change")).toBe(1);

    const sso = await createTestUser();
    expect(
      await changeOwnPasswordAction(sso, {
        currentPassword: "anything",
        password: "my next password 1",
        confirm: "my next password 1",
      }),
    ).toMatchObject({
      ok: false,
      message: expect.stringMatching(/identity provider/),
    });
  });
});

describe("npm run admin", () => {
  const admin = (args: string[]) =>
    run(
      process.execPath,
      [path.join(root, "node_modules/tsx/dist/cli.mjs"), path.join(root, "scripts/admin.ts"), ...args],
      {
        cwd: root,
        env: { ...process.env, AUTH_URL: "http://127.0.0.1:4567" },
      },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );

  it("creates an account whose printed link works, lists it, disables it; refuses a bad email with a clear error", async () => {
    const email = `${unique("cli")}@test.local`;
    const created = await admin(["user", "create", email, "--name", "From CLI"]);
    expect(created.code).toBe(0);
    const link = created.stdout.match(/http:\/\/127\.0\.0\.1:4567\/set-password\/\S+/)?.[0];
    expect(link).toBeDefined();
    expect(
      await setPasswordWithLinkAction({
        token: tokenOf(link!),
        password: "set through cli link",
        confirm: "set through cli link",
      }),
    ).toMatchObject({ ok: true });
    const [row] = await db().select({ id: users.id, role: users.role }).from(users).where(eq(users.email, email));
    expect(row?.role).toBe("member");
    const [event] = await db()
      .select({ after: auditEvents.after, actorId: auditEvents.actorId })
      .from(auditEvents)
      .where(and(eq(auditEvents.objectId, row!.id), eq(auditEvents.action, "user.invite")));
    expect(event).toMatchObject({ actorId: null, after: { by: "operator (CLI)" } });

    const listed = await admin(["user", "list", "--search", email]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${email.replace(/\./g, "\\.")}\\s+From CLI\\s+member\\s+password\\s+active`, "m"),
    );
    const json = await admin(["user", "list", "--json", "--search", email]);
    expect(JSON.parse(json.stdout)).toMatchObject([{ email, role: "member", disabledAt: null }]);

    const disabled = await admin(["user", "disable", email]);
    expect(disabled).toMatchObject({ code: 0 });
    expect(await getViewerById({ id: row!.id })).toBeNull();

    const bad = await admin(["user", "disable", "not-an-email"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/“not-an-email” is not an email address/);
    const missing = await admin(["user", "make-admin", `${unique("nobody")}@test.local`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/There is no account with the email/);
  }, 240_000);

  it("unlocks an account that failed sign-ins locked", async () => {
    const email = `${unique("locked")}@test.local`;
    const address = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    for (let attempt = 0; attempt < 5; attempt += 1) await attemptPasswordSignIn({ email, password: "wrong", address });
    expect((await listThrottledAccounts()).map((row) => row.email)).toContain(email);
    const unlocked = await admin(["user", "unlock", email]);
    expect(unlocked).toMatchObject({ code: 0 });
    expect(unlocked.stdout).toMatch(/is unlocked/);
    expect((await listThrottledAccounts()).map((row) => row.email)).not.toContain(email);
    const again = await admin(["user", "unlock", email]);
    expect(again.stdout).toMatch(/nothing changed/);
  }, 120_000);
});
