import { and, eq, isNull, sql } from "drizzle-orm";
import { db } from "../client";
import { projectMembers, projects, users, type ProjectRole, type TokenScope, type UserRole } from "../schema";

export interface Viewer {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  memberships: { projectId: string; projectSlug: string; projectName: string; role: ProjectRole }[];
  /** Set when the caller came with an API token: its rights were already narrowed to the token's. */
  token?: { id: string; scope: TokenScope; projectId: string | null };
}

export async function getViewerById({ id }: { id: string }): Promise<Viewer | null> {
  const [user] = await db()
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, id))
    .limit(1);
  if (!user || user.disabledAt) return null;
  const memberships = await db()
    .select({
      projectId: projects.id,
      projectSlug: projects.slug,
      projectName: projects.name,
      role: projectMembers.role,
    })
    .from(projectMembers)
    .innerJoin(projects, eq(projects.id, projectMembers.projectId))
    .where(eq(projectMembers.userId, id))
    .orderBy(projects.name);
  return { id: user.id, email: user.email, name: user.name, role: user.role, memberships };
}

/** An enabled account by email (case-insensitive), with its memberships; null when absent or disabled. */
export async function getViewerByEmail({ email }: { email: string }): Promise<Viewer | null> {
  const [user] = await db()
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`)
    .limit(1);
  return user ? getViewerById({ id: user.id }) : null;
}

/** Active accounts for the member picker (shown to project owners and admins only). */
export async function listActiveAccounts({ limit = 1000 }: { limit?: number } = {}): Promise<
  { email: string; name: string | null }[]
> {
  return db()
    .select({ email: users.email, name: users.name })
    .from(users)
    .where(isNull(users.disabledAt))
    .orderBy(users.email)
    .limit(limit);
}

/** Whether the account an email signs in to (matched case-insensitively) is disabled; false when there is none. */
export async function isAccountDisabled({ email }: { email: string }): Promise<boolean> {
  const [user] = await db()
    .select({ disabledAt: users.disabledAt })
    .from(users)
    .where(sql`lower(${users.email}) = ${email.toLowerCase()}`)
    .limit(1);
  return Boolean(user?.disabledAt);
}

/** Makes an account an admin: for people the configuration names as admins, at their first OIDC sign-in. */
export async function grantAdminRole({ userId }: { userId: string }): Promise<void> {
  await db().update(users).set({ role: "admin" }).where(eq(users.id, userId));
}

/** The enabled admins' emails, oldest account first (the operator's command acts as one of them). */
export async function listActiveAdminEmails(): Promise<string[]> {
  const rows = await db()
    .select({ email: users.email })
    .from(users)
    .where(and(isNull(users.disabledAt), eq(users.role, "admin")))
    .orderBy(users.createdAt);
  return rows.map((row) => row.email);
}
