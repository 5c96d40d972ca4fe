import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db, type Database } from "../client";
import { images, projectInvitations, projectMembers, projects, recipes, users, type ProjectRole } from "../schema";
import { recordAudit } from "./audit";
import { projectUsage } from "./storage-usage";
import { type Viewer } from "./users";
import {
  isAdmin,
  projectPageCapabilities,
  projectScopedCondition,
  requireInProject,
  type ProjectCapabilities,
} from "./access";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Projects the viewer may create images in: every project for admins, else where member or owner. */
export async function listProjectsForImport({ viewer }: { viewer: Viewer }): Promise<{ id: string; name: string }[]> {
  return db()
    .select({ id: projects.id, name: projects.name })
    .from(projects)
    .where(projectScopedCondition(viewer, projects.id, "contribute"))
    .orderBy(asc(projects.name));
}

export async function getProjectQuota({ projectId }: { projectId: string }): Promise<number | null> {
  const [row] = await db().select({ quotaBytes: projects.quotaBytes }).from(projects).where(eq(projects.id, projectId));
  return row?.quotaBytes ?? null;
}

// ── Teams ────────────────────────────────────────────────────────────────────────────────────
// Membership rules live here: anyone signed in may create a project (and owns it); a project
// always keeps at least one owner. Who manages members and sets quotas is access.ts's answer.

export interface ProjectSummary {
  id: string;
  slug: string;
  name: string;
  description: string;
  role: ProjectRole | null;
  memberCount: number;
  imageCount: number;
  usedBytes: number;
  quotaBytes: number;
}

export async function listProjects({ viewer, slug }: { viewer: Viewer; slug?: string }): Promise<ProjectSummary[]> {
  const conditions = [
    projectScopedCondition(viewer, sql`p.id`),
    slug === undefined ? undefined : sql`p.slug = ${slug}`,
  ].filter((condition): condition is SQL => condition !== undefined);
  const result = await db().execute<Record<string, unknown>>(sql`
    select p.id, p.slug, p.name, p.description, p.quota_bytes, m.role,
           (select count(*) from project_members pm where pm.project_id = p.id) as member_count,
           (select count(*) from images i where i.project_id = p.id) as image_count
    from projects p left join project_members m on m.project_id = p.id and m.user_id = ${viewer.id}
    ${conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``}
    order by p.name limit 500`);
  return Promise.all(
    result.rows.map(async (row) => ({
      id: String(row.id),
      slug: String(row.slug),
      name: String(row.name),
      description: String(row.description),
      role: (row.role as ProjectRole | null) ?? null,
      memberCount: Number(row.member_count),
      imageCount: Number(row.image_count),
      usedBytes: (await projectUsage(db(), String(row.id))).usedBytes,
      quotaBytes: Number(row.quota_bytes),
    })),
  );
}

export interface ProjectRef {
  id: string;
  slug: string;
  name: string;
  /** The viewer's own role there (null for an admin who is not a member). */
  role: ProjectRole | null;
  createdAt: Date;
}

/**
 * The projects the viewer belongs to (all for admins), by name: a lean keyset page (name, id) for
 * the API, without the usage sums the projects page shows. `slug` narrows to one project.
 */
export async function listProjectRefs({
  viewer,
  slug,
  after,
  limit = 50,
}: {
  viewer: Viewer;
  slug?: string;
  after?: { name: string; id: string };
  limit?: number;
}): Promise<ProjectRef[]> {
  const conditions = [projectScopedCondition(viewer, sql`p.id`)];
  if (slug !== undefined) conditions.push(sql`p.slug = ${slug}`);
  if (after) conditions.push(sql`(p.name, p.id) > (${after.name}, ${after.id}::uuid)`);
  const result = await db().execute<Record<string, unknown>>(sql`
    select p.id, p.slug, p.name, p.created_at, m.role
    from projects p left join project_members m on m.project_id = p.id and m.user_id = ${viewer.id}
    where ${sql.join(conditions, sql` and `)}
    order by p.name, p.id limit ${limit}`);
  // A token narrows the caller's roles (access.ts): report the narrowed one, not the stored one.
  const narrowed = new Map(viewer.memberships.map((membership) => [membership.projectId, membership.role]));
  return result.rows.map((row) => ({
    id: String(row.id),
    slug: String(row.slug),
    name: String(row.name),
    role: row.role ? (narrowed.get(String(row.id)) ?? null) : null,
    createdAt: new Date(String(row.created_at)),
  }));
}

export interface ProjectDetail extends ProjectSummary {
  members: { userId: string; email: string; name: string | null; role: ProjectRole }[];
  /** Only for those who manage the project. */
  invitations: { email: string; role: ProjectRole; createdAt: Date }[];
  images: { slug: string; name: string; latestVersion: string | null; versionCount: number; visibility: string }[];
  recipes: { id: string; name: string; latestRevision: number }[];
  /** What the viewer may do here (access.ts): manage members, invitations and incoming shares; set the quota. */
  can: ProjectCapabilities & { setQuota: boolean };
}

export async function getProject({ viewer, slug }: { viewer: Viewer; slug: string }): Promise<ProjectDetail | null> {
  const [summary] = await listProjects({ viewer, slug });
  if (!summary) return null;
  const [members, projectImages, projectRecipes] = await Promise.all([
    db()
      .select({ userId: users.id, email: users.email, name: users.name, role: projectMembers.role })
      .from(projectMembers)
      .innerJoin(users, eq(users.id, projectMembers.userId))
      .where(eq(projectMembers.projectId, summary.id))
      .orderBy(asc(users.email)),
    db()
      .select({
        slug: images.slug,
        name: images.name,
        latestVersion: images.latestVersion,
        versionCount: images.versionCount,
        visibility: images.visibility,
      })
      .from(images)
      .where(eq(images.projectId, summary.id))
      .orderBy(asc(images.name)),
    db()
      .select({ id: recipes.id, name: recipes.name, latestRevision: recipes.latestRevision })
      .from(recipes)
      .where(eq(recipes.projectId, summary.id))
      .orderBy(asc(recipes.name)),
  ]);
  const can = projectPageCapabilities(viewer, summary.id);
  const invitations = can.manage
    ? await db()
        .select({
          email: projectInvitations.email,
          role: projectInvitations.role,
          createdAt: projectInvitations.createdAt,
        })
        .from(projectInvitations)
        .where(eq(projectInvitations.projectId, summary.id))
        .orderBy(asc(projectInvitations.email))
    : [];
  return { ...summary, members, invitations, images: projectImages, recipes: projectRecipes, can };
}

/** Throws unless the viewer manages the project's members (access.ts) and the project exists (for admins). */
async function requireManager(viewer: Viewer, projectId: string): Promise<void> {
  requireInProject(viewer, projectId, "manage", "manage its members");
  const [project] = await db().select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
  if (!project) throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
}

export async function createProject({
  viewer,
  values,
}: {
  viewer: Viewer;
  values: { slug: string; name: string; description?: string };
}): Promise<{ id: string; slug: string }> {
  const [taken] = await db().select({ id: projects.id }).from(projects).where(eq(projects.slug, values.slug));
  if (taken)
    throw new HangarError("conflict", `The short name ${values.slug} is taken; choose another.`, {
      slug: ["This short name is taken."],
    });
  return db().transaction(async (tx) => {
    const [project] = await tx
      .insert(projects)
      .values({ slug: values.slug, name: values.name, description: values.description ?? "" })
      .returning({ id: projects.id, slug: projects.slug });
    await tx.insert(projectMembers).values({ projectId: project!.id, userId: viewer.id, role: "owner" });
    await recordAudit(
      { actorId: viewer.id, action: "project.create", objectType: "project", objectId: project!.id, after: values },
      tx,
    );
    return project!;
  });
}

/**
 * Adds an existing account by email, or changes the role of a member; an email without an account
 * yet is invited, and joins with that role when it first signs in.
 */
export async function setMember({
  viewer,
  projectId,
  email,
  role,
}: {
  viewer: Viewer;
  projectId: string;
  email: string;
  role: ProjectRole;
}): Promise<{ invited: boolean }> {
  await requireManager(viewer, projectId);
  const address = email.trim().toLowerCase();
  const [user] = await db()
    .select({ id: users.id, disabledAt: users.disabledAt })
    .from(users)
    .where(sql`lower(${users.email}) = ${address}`);
  if (user?.disabledAt)
    throw new HangarError(
      "invalid",
      `The account ${email} is disabled; an admin has to enable it before it can join a project.`,
      { email: ["This account is disabled."] },
    );
  if (!user) {
    await db().transaction(async (tx) => {
      await tx
        .insert(projectInvitations)
        .values({ projectId, email: address, role, invitedById: viewer.id })
        .onConflictDoUpdate({
          target: [projectInvitations.projectId, projectInvitations.email],
          set: { role, invitedById: viewer.id, createdAt: sql`now()` },
        });
      await recordAudit(
        {
          actorId: viewer.id,
          action: "project.invite",
          objectType: "project",
          objectId: projectId,
          after: { email: address, role },
        },
        tx,
      );
    });
    return { invited: true };
  }
  await db().transaction(async (tx) => {
    const [before] = await tx
      .select({ role: projectMembers.role })
      .from(projectMembers)
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, user.id)))
      .for("update");
    if (before?.role === "owner" && role !== "owner") await refuseLastOwner(tx, projectId, "demote");
    await tx
      .insert(projectMembers)
      .values({ projectId, userId: user.id, role })
      .onConflictDoUpdate({ target: [projectMembers.projectId, projectMembers.userId], set: { role } });
    await recordAudit(
      {
        actorId: viewer.id,
        action: before ? "project.member_role" : "project.member_add",
        objectType: "project",
        objectId: projectId,
        before: before ? { email, role: before.role } : null,
        after: { email, role },
      },
      tx,
    );
  });
  return { invited: false };
}

/** Withdraws an invitation that was not taken up yet. */
export async function cancelInvitation({
  viewer,
  projectId,
  email,
}: {
  viewer: Viewer;
  projectId: string;
  email: string;
}): Promise<void> {
  await requireManager(viewer, projectId);
  await db().transaction(async (tx) => {
    const [removed] = await tx
      .delete(projectInvitations)
      .where(and(eq(projectInvitations.projectId, projectId), eq(projectInvitations.email, email.trim().toLowerCase())))
      .returning({ email: projectInvitations.email, role: projectInvitations.role });
    if (!removed) throw new HangarError("not_found", "There is no such invitation; it may have been taken up already.");
    await recordAudit(
      {
        actorId: viewer.id,
        action: "project.invite_cancel",
        objectType: "project",
        objectId: projectId,
        before: removed,
      },
      tx,
    );
  });
}

/** Turns the invitations waiting for this email into memberships; run at every sign-in. */
export async function acceptInvitations({ userId, email }: { userId: string; email: string }): Promise<number> {
  const address = email.trim().toLowerCase();
  return db().transaction(async (tx) => {
    const waiting = await tx.delete(projectInvitations).where(eq(projectInvitations.email, address)).returning();
    for (const invitation of waiting) {
      await tx
        .insert(projectMembers)
        .values({ projectId: invitation.projectId, userId, role: invitation.role })
        .onConflictDoNothing();
      await recordAudit(
        {
          actorId: userId,
          action: "project.member_join",
          objectType: "project",
          objectId: invitation.projectId,
          after: { email: address, role: invitation.role, invitedById: invitation.invitedById },
        },
        tx,
      );
    }
    return waiting.length;
  });
}

export async function removeMember({
  viewer,
  projectId,
  userId,
}: {
  viewer: Viewer;
  projectId: string;
  userId: string;
}): Promise<void> {
  await requireManager(viewer, projectId);
  await db().transaction(async (tx) => {
    const [member] = await tx
      .select({ role: projectMembers.role })
      .from(projectMembers)
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, userId)))
      .for("update");
    if (!member) throw new HangarError("not_found", "That person is not a member of the project.");
    if (member.role === "owner") await refuseLastOwner(tx, projectId, "remove");
    await tx
      .delete(projectMembers)
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, userId)));
    await recordAudit(
      {
        actorId: viewer.id,
        action: "project.member_remove",
        objectType: "project",
        objectId: projectId,
        before: { userId, role: member.role },
      },
      tx,
    );
  });
}

async function refuseLastOwner(tx: Tx, projectId: string, what: "remove" | "demote") {
  // Lock every owner row so two concurrent changes can't both leave the project without one.
  const owners = await tx
    .select({ userId: projectMembers.userId })
    .from(projectMembers)
    .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.role, "owner")))
    .for("update");
  if (owners.length <= 1) {
    throw new HangarError(
      "conflict",
      `You can't ${what} the last owner: a project always needs one. Make someone else an owner first. Nothing was changed.`,
    );
  }
}

export async function setQuota({
  viewer,
  projectId,
  quotaBytes,
}: {
  viewer: Viewer;
  projectId: string;
  quotaBytes: number;
}): Promise<void> {
  if (!isAdmin(viewer)) throw new HangarError("forbidden", "Only admins set storage quotas. Nothing was changed.");
  await db().transaction(async (tx) => {
    const [before] = await tx
      .select({ quotaBytes: projects.quotaBytes })
      .from(projects)
      .where(eq(projects.id, projectId))
      .for("update");
    if (!before) throw new HangarError("not_found", "That project doesn't exist.");
    await tx.update(projects).set({ quotaBytes }).where(eq(projects.id, projectId));
    await recordAudit(
      {
        actorId: viewer.id,
        action: "project.quota",
        objectType: "project",
        objectId: projectId,
        before,
        after: { quotaBytes },
      },
      tx,
    );
  });
}

export interface StorageBreakdown {
  /** Cumulative stored bytes of today's versions, by the day each was added. */
  history: { day: string; bytes: number }[];
  byImage: { slug: string; name: string; bytes: number; linked: number }[];
}

/** Where a project's storage goes, for its page; the caller has already checked membership. */
export async function getStorageBreakdown({ projectId }: { projectId: string }): Promise<StorageBreakdown> {
  const [days, perImage] = await Promise.all([
    db().execute<{ day: string; added: string }>(sql`
      select to_char(date_trunc('day', v.created_at), 'YYYY-MM-DD') as day, sum(v.file_size) as added
      from image_versions v join images i on i.id = v.image_id
      where i.project_id = ${projectId} and v.data_status = 'ready'
      group by 1 order by 1`),
    db().execute<{ slug: string; name: string; bytes: string; linked: string }>(sql`
      select i.slug, i.name, sum(v.file_size) as bytes, count(*) filter (where v.backing_version_id is not null) as linked
      from image_versions v join images i on i.id = v.image_id
      where i.project_id = ${projectId} and v.data_status = 'ready'
      group by i.slug, i.name order by sum(v.file_size) desc limit 10`),
  ]);
  let total = 0;
  const history = days.rows.map((row) => {
    total += Number(row.added);
    return { day: row.day, bytes: total };
  });
  return {
    history,
    byImage: perImage.rows.map((row) => ({
      slug: row.slug,
      name: row.name,
      bytes: Number(row.bytes),
      linked: Number(row.linked),
    })),
  };
}
