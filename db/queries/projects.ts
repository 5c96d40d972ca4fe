import { asc, eq, inArray } from "drizzle-orm";
import { db } from "../client";
import { projects } from "../schema";
import type { Viewer } from "./users";

/** Projects the viewer may create images in: every project for admins, else where member or owner. */
export async function listProjectsForImport({ viewer }: { viewer: Viewer }): Promise<{ id: string; name: string }[]> {
  if (viewer.role === "admin") return db().select({ id: projects.id, name: projects.name }).from(projects).orderBy(asc(projects.name));
  const ids = viewer.memberships.filter((membership) => membership.role !== "viewer").map((membership) => membership.projectId);
  if (ids.length === 0) return [];
  return db().select({ id: projects.id, name: projects.name }).from(projects).where(inArray(projects.id, ids)).orderBy(asc(projects.name));
}

export async function getProjectQuota({ projectId }: { projectId: string }): Promise<number | null> {
  const [row] = await db().select({ quotaBytes: projects.quotaBytes }).from(projects).where(eq(projects.id, projectId));
  return row?.quotaBytes ?? null;
}
