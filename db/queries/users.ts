import { eq, isNull } from "drizzle-orm";
import { db } from "../client";
import { projectMembers, projects, users, type ProjectRole, type UserRole } from "../schema";

export interface Viewer {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  memberships: { projectId: string; projectSlug: string; projectName: string; role: ProjectRole }[];
}


export async function getViewerById({ id }: { id: string }): Promise<Viewer | null> {
  const [user] = await db()
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, id))
    .limit(1);
  if (!user || user.disabledAt) return null;
  const memberships = await db()
    .select({ projectId: projects.id, projectSlug: projects.slug, projectName: projects.name, role: projectMembers.role })
    .from(projectMembers)
    .innerJoin(projects, eq(projects.id, projectMembers.projectId))
    .where(eq(projectMembers.userId, id))
    .orderBy(projects.name);
  return { id: user.id, email: user.email, name: user.name, role: user.role, memberships };
}

/** Active accounts for the member picker (shown to project owners and admins only). */
export async function listActiveAccounts({ limit = 1000 }: { limit?: number } = {}): Promise<{ email: string; name: string | null }[]> {
  return db().select({ email: users.email, name: users.name }).from(users).where(isNull(users.disabledAt)).orderBy(users.email).limit(limit);
}
