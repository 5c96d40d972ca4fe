// Accounts as admins and operators manage them. Every rule lives here so the admin page, its
// server actions and `npm run admin` ask the same functions: only admins (or an operator on the
// server) act, the last active admin can't be disabled or demoted, every change is audited, and a
// set-password link is stored only as a hash and works once, until it expires.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db, type Database } from "../client";
import { recordAudit } from "./audit";
import { requireAdmin } from "./access";
import { passwordLinks, users, type PasswordLinkPurpose, type ProjectRole, type UserRole } from "../schema";
import type { Viewer } from "./users";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Who changes an account: a signed-in admin, or an operator running `npm run admin` on the server. */
export type AccountActor = { kind: "viewer"; viewer: Viewer } | { kind: "operator" };

export const OPERATOR_LABEL = "operator (CLI)";

function actorId(actor: AccountActor): string | null {
  return actor.kind === "viewer" ? actor.viewer.id : null;
}

/** An operator on the server may do what an admin may; a signed-in person must be an admin. */
function requireAccountAdmin(actor: AccountActor, action: string): void {
  if (actor.kind === "viewer") requireAdmin(actor.viewer, action);
}

async function audit(
  tx: Tx,
  actor: AccountActor,
  event: { action: string; userId: string; before?: unknown; after?: Record<string, unknown> },
) {
  // Operator changes have no user behind them; the audit row says where they came from.
  const after = actor.kind === "operator" ? { ...event.after, by: OPERATOR_LABEL } : event.after;
  await recordAudit(
    {
      actorId: actorId(actor),
      action: event.action,
      objectType: "user",
      objectId: event.userId,
      before: event.before,
      after,
    },
    tx,
  );
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export interface UserListRow {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  /** Has a password (or a pending set-password link): signs in with email and password. */
  local: boolean;
  /** Has signed in through the OpenID Connect provider. */
  sso: boolean;
  disabledAt: Date | null;
  lastSignInAt: Date | null;
  createdAt: Date;
  projects: { slug: string; name: string; role: ProjectRole }[];
  /** An unused, unexpired set-password link exists (an invitation not yet taken up, or a reset). */
  pendingLink: { purpose: PasswordLinkPurpose; expiresAt: Date } | null;
}

export async function listUsers({
  actor,
  search,
  limit = 500,
}: {
  actor: AccountActor;
  search?: string;
  limit?: number;
}): Promise<UserListRow[]> {
  requireAccountAdmin(actor, "see the list of accounts");
  const term = search?.trim();
  const pattern = term ? `%${term.replace(/[%_\\]/g, "\\$&")}%` : null;
  const result = await db().execute<Record<string, unknown>>(sql`
    select u.id, u.email, u.name, u.role, u.password_hash is not null as has_password, u.disabled_at, u.last_sign_in_at, u.created_at,
      exists (select 1 from accounts a where a.user_id = u.id) as sso,
      coalesce((select json_agg(json_build_object('slug', p.slug, 'name', p.name, 'role', m.role) order by p.name)
                from project_members m join projects p on p.id = m.project_id where m.user_id = u.id), '[]'::json) as projects,
      (select json_build_object('purpose', l.purpose, 'expiresAt', l.expires_at) from password_links l
        where l.user_id = u.id and l.used_at is null and l.expires_at > now() order by l.created_at desc limit 1) as pending_link
    from users u
    ${pattern ? sql`where u.email ilike ${pattern} or u.name ilike ${pattern}` : sql``}
    order by u.disabled_at is not null, lower(u.email)
    limit ${limit}`);
  return result.rows.map((row) => {
    const pending = row.pending_link as { purpose: PasswordLinkPurpose; expiresAt: string } | null;
    return {
      id: String(row.id),
      email: String(row.email),
      name: (row.name as string | null) ?? null,
      role: row.role as UserRole,
      local: Boolean(row.has_password) || Boolean(pending),
      sso: Boolean(row.sso),
      disabledAt: row.disabled_at ? new Date(String(row.disabled_at)) : null,
      lastSignInAt: row.last_sign_in_at ? new Date(String(row.last_sign_in_at)) : null,
      createdAt: new Date(String(row.created_at)),
      projects: row.projects as UserListRow["projects"],
      pendingLink: pending ? { purpose: pending.purpose, expiresAt: new Date(pending.expiresAt) } : null,
    };
  });
}

export interface IssuedLink {
  userId: string;
  email: string;
  /** The secret token; only its hash is stored, so this is the one chance to show it. */
  token: string;
  expiresAt: Date;
}

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

async function issueLink(
  tx: Tx,
  {
    userId,
    purpose,
    createdById,
    lifetimeHours,
  }: { userId: string; purpose: PasswordLinkPurpose; createdById: string | null; lifetimeHours: number },
) {
  // Only the newest link works: an older one that was handed on and not used is void now.
  await tx
    .update(passwordLinks)
    .set({ usedAt: new Date() })
    .where(and(eq(passwordLinks.userId, userId), isNull(passwordLinks.usedAt)));
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + lifetimeHours * 3600_000);
  await tx.insert(passwordLinks).values({ userId, tokenHash: hashToken(token), purpose, createdById, expiresAt });
  return { token, expiresAt };
}

async function lockUserByEmail(tx: Tx, email: string) {
  const [user] = await tx
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      disabledAt: users.disabledAt,
      passwordHash: users.passwordHash,
    })
    .from(users)
    .where(sql`lower(${users.email}) = ${normaliseEmail(email)}`)
    .for("update");
  if (!user)
    throw new HangarError(
      "not_found",
      `There is no account with the email ${normaliseEmail(email)}. Check the spelling, or invite them first.`,
    );
  return user;
}

async function lockUserById(tx: Tx, userId: string) {
  const [user] = await tx
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      disabledAt: users.disabledAt,
      passwordHash: users.passwordHash,
    })
    .from(users)
    .where(eq(users.id, userId))
    .for("update");
  if (!user) throw new HangarError("not_found", "That account doesn't exist (any more). Reload the list.");
  return user;
}

type Target = { userId: string } | { email: string };
const lockTarget = (tx: Tx, target: Target) =>
  "userId" in target ? lockUserById(tx, target.userId) : lockUserByEmail(tx, target.email);

/** Creates a local account with no password yet and a one-time link to choose one, or with a password given by an operator. */
export async function inviteUser({
  actor,
  email,
  name,
  role,
  lifetimeHours,
  passwordHash,
}: {
  actor: AccountActor;
  email: string;
  name?: string | null;
  role: UserRole;
  lifetimeHours: number;
  /** Set the password at once instead of issuing a link (`npm run admin -- user create --password-stdin`). */
  passwordHash?: string;
}): Promise<IssuedLink | { userId: string; email: string; token: null; expiresAt: null }> {
  requireAccountAdmin(actor, "create accounts");
  const address = normaliseEmail(email);
  return db().transaction(async (tx) => {
    const [created] = await tx
      .insert(users)
      .values({ email: address, name: name?.trim() || null, role, passwordHash: passwordHash ?? null })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (!created)
      throw new HangarError(
        "conflict",
        `${address} already has an account. To let them choose a new password, reset it instead.`,
      );
    await audit(tx, actor, {
      action: "user.invite",
      userId: created.id,
      after: { email: address, name: name?.trim() || null, role, withLink: !passwordHash },
    });
    if (passwordHash) return { userId: created.id, email: address, token: null, expiresAt: null };
    const link = await issueLink(tx, {
      userId: created.id,
      purpose: "invite",
      createdById: actorId(actor),
      lifetimeHours,
    });
    return { userId: created.id, email: address, ...link };
  });
}

// Changes that can take away the last active admin take this lock first, so two of them at once
// (two admins demoting each other) run one after the other and the second sees the first's result.
const ADMIN_SET_LOCK = 7262011;

async function refuseLastAdmin(tx: Tx, target: { id: string; role: UserRole; disabledAt: Date | null }, what: string) {
  if (target.role !== "admin" || target.disabledAt) return;
  const [row] = await tx
    .execute<{ others: string }>(
      sql`select count(*) as others from users where role = 'admin' and disabled_at is null and id <> ${target.id}`,
    )
    .then((result) => result.rows);
  if (Number(row?.others ?? 0) === 0) {
    throw new HangarError(
      "conflict",
      `You can't ${what} the last active admin: Hangar always needs one. Make someone else an admin first. Nothing was changed.`,
    );
  }
}

export async function setUserRole({
  actor,
  target,
  role,
}: {
  actor: AccountActor;
  target: Target;
  role: UserRole;
}): Promise<{ userId: string; email: string; changed: boolean }> {
  requireAccountAdmin(actor, "change who is an admin");
  return db().transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_SET_LOCK})`);
    const user = await lockTarget(tx, target);
    if (user.role === role) return { userId: user.id, email: user.email, changed: false };
    if (role !== "admin") await refuseLastAdmin(tx, user, "demote");
    await tx.update(users).set({ role }).where(eq(users.id, user.id));
    await audit(tx, actor, { action: "user.role", userId: user.id, before: { role: user.role }, after: { role } });
    return { userId: user.id, email: user.email, changed: true };
  });
}

export async function setUserDisabled({
  actor,
  target,
  disabled,
}: {
  actor: AccountActor;
  target: Target;
  disabled: boolean;
}): Promise<{ userId: string; email: string; changed: boolean }> {
  requireAccountAdmin(actor, "disable or enable accounts");
  return db().transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_SET_LOCK})`);
    const user = await lockTarget(tx, target);
    if (Boolean(user.disabledAt) === disabled) return { userId: user.id, email: user.email, changed: false };
    if (disabled) await refuseLastAdmin(tx, user, "disable");
    // Sessions are checked against this column on every request, so they stop at once.
    await tx
      .update(users)
      .set({ disabledAt: disabled ? new Date() : null })
      .where(eq(users.id, user.id));
    await audit(tx, actor, {
      action: disabled ? "user.disable" : "user.enable",
      userId: user.id,
      before: { disabledAt: user.disabledAt },
      after: { disabled },
    });
    return { userId: user.id, email: user.email, changed: true };
  });
}

/**
 * A new one-time link for a local account. The old password stops working at once: a reset is
 * asked for when a password is lost or may be known to someone else, and a password that kept
 * working until the link is used would stay open to whoever knows it for as long as the link lives.
 */
export async function resetUserPassword({
  actor,
  target,
  lifetimeHours,
}: {
  actor: AccountActor;
  target: Target;
  lifetimeHours: number;
}): Promise<IssuedLink> {
  requireAccountAdmin(actor, "reset passwords");
  return db().transaction(async (tx) => {
    const user = await lockTarget(tx, target);
    if (!user.passwordHash) {
      const [sso] = await tx
        .execute<{ sso: boolean }>(sql`select exists (select 1 from accounts where user_id = ${user.id}) as sso`)
        .then((result) => result.rows);
      if (sso?.sso) {
        throw new HangarError(
          "conflict",
          `${user.email} signs in through single sign-on; their password is managed by the identity provider, not by Hangar. Nothing was changed.`,
        );
      }
    }
    await tx.update(users).set({ passwordHash: null }).where(eq(users.id, user.id));
    const link = await issueLink(tx, { userId: user.id, purpose: "reset", createdById: actorId(actor), lifetimeHours });
    await audit(tx, actor, {
      action: "user.password_reset",
      userId: user.id,
      after: { expiresAt: link.expiresAt.toISOString() },
    });
    return { userId: user.id, email: user.email, ...link };
  });
}

export type PasswordLinkState =
  | { state: "valid"; email: string; name: string | null; purpose: PasswordLinkPurpose; expiresAt: Date }
  | { state: "invalid"; reason: "unknown" | "used" | "expired" | "disabled" };

/** What a set-password page may show for a token: whose account, or why the link no longer works. */
export async function getPasswordLink({ token }: { token: string }): Promise<PasswordLinkState> {
  const [link] = await db()
    .select({
      usedAt: passwordLinks.usedAt,
      expiresAt: passwordLinks.expiresAt,
      purpose: passwordLinks.purpose,
      email: users.email,
      name: users.name,
      disabledAt: users.disabledAt,
    })
    .from(passwordLinks)
    .innerJoin(users, eq(users.id, passwordLinks.userId))
    .where(eq(passwordLinks.tokenHash, hashToken(token)))
    .limit(1);
  if (!link) return { state: "invalid", reason: "unknown" };
  if (link.usedAt) return { state: "invalid", reason: "used" };
  if (link.expiresAt <= new Date()) return { state: "invalid", reason: "expired" };
  if (link.disabledAt) return { state: "invalid", reason: "disabled" };
  return { state: "valid", email: link.email, name: link.name, purpose: link.purpose, expiresAt: link.expiresAt };
}

export const passwordLinkRefusal: Record<Exclude<PasswordLinkState, { state: "valid" }>["reason"], string> = {
  unknown: "This set-password link is not valid. Check that you copied all of it, or ask an admin for a new link.",
  used: "This set-password link was already used (or replaced by a newer one). Ask an admin for a new link.",
  expired: "This set-password link has expired. Ask an admin for a new link.",
  disabled: "This account is disabled. Ask an admin to enable it and give you a new link.",
};

/** Sets the password and burns the link in one step; of two uses at once exactly one wins. */
export async function usePasswordLink({
  token,
  passwordHash,
}: {
  token: string;
  passwordHash: string;
}): Promise<{ email: string }> {
  return db().transaction(async (tx) => {
    const [link] = await tx
      .update(passwordLinks)
      .set({ usedAt: new Date() })
      .where(
        and(
          eq(passwordLinks.tokenHash, hashToken(token)),
          isNull(passwordLinks.usedAt),
          gt(passwordLinks.expiresAt, new Date()),
        ),
      )
      .returning({ userId: passwordLinks.userId, purpose: passwordLinks.purpose });
    if (!link) {
      const state = await getPasswordLink({ token });
      throw new HangarError("conflict", passwordLinkRefusal[state.state === "invalid" ? state.reason : "used"]);
    }
    const user = await lockUserById(tx, link.userId);
    if (user.disabledAt) throw new HangarError("forbidden", passwordLinkRefusal.disabled);
    await tx.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    await recordAudit(
      {
        actorId: user.id,
        action: "user.password_set",
        objectType: "user",
        objectId: user.id,
        after: { via: `${link.purpose} link` },
      },
      tx,
    );
    return { email: user.email };
  });
}

/** A signed-in person changes their own password; `verify` checks the current one against the stored hash. */
export async function changeOwnPassword({
  viewer,
  verifyCurrent,
  newPasswordHash,
}: {
  viewer: Viewer;
  verifyCurrent: (storedHash: string) => Promise<boolean>;
  newPasswordHash: string;
}): Promise<void> {
  await db().transaction(async (tx) => {
    const user = await lockUserById(tx, viewer.id);
    if (!user.passwordHash) {
      throw new HangarError(
        "conflict",
        "Your account has no Hangar password: you sign in through single sign-on, so your password is managed by your identity provider.",
      );
    }
    if (!(await verifyCurrent(user.passwordHash))) {
      throw new HangarError("invalid", "Your current password is not right. Nothing was changed.", {
        currentPassword: ["This is not your current password."],
      });
    }
    await tx.update(users).set({ passwordHash: newPasswordHash }).where(eq(users.id, user.id));
    await recordAudit({ actorId: user.id, action: "user.password_change", objectType: "user", objectId: user.id }, tx);
  });
}

/** Whether the account has a Hangar password, for the account page (SSO-only people are told their provider manages it). */
export async function getOwnAccount({
  viewer,
}: {
  viewer: Viewer;
}): Promise<{ hasPassword: boolean; sso: boolean; lastSignInAt: Date | null }> {
  const result = await db().execute<{ has_password: boolean; sso: boolean; last_sign_in_at: string | null }>(sql`
    select u.password_hash is not null as has_password, exists (select 1 from accounts a where a.user_id = u.id) as sso, u.last_sign_in_at
    from users u where u.id = ${viewer.id}`);
  const row = result.rows[0];
  return {
    hasPassword: Boolean(row?.has_password),
    sso: Boolean(row?.sso),
    lastSignInAt: row?.last_sign_in_at ? new Date(row.last_sign_in_at) : null,
  };
}

export async function recordSignIn({ userId }: { userId: string }): Promise<void> {
  await db().update(users).set({ lastSignInAt: new Date() }).where(eq(users.id, userId));
}
