// The project storage quota: what a project holds (stored versions plus what work in flight has
// reserved) and the one rule every writer of bytes asks before it adds any: imports, clones, builds.
import { eq, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { formatBytes } from "@/lib/format";
import type { Database } from "../client";
import { projects } from "../schema";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Bytes a project holds: its ready versions plus what its in-flight imports, clones and builds have reserved. */
export async function projectUsage(
  tx: Tx | Database,
  projectId: string,
): Promise<{ usedBytes: number; reservedBytes: number }> {
  const result = await tx.execute<{ used: string | null; reserved: string | null }>(sql`
    select
      (select coalesce(sum(v.file_size), 0) from image_versions v join images i on i.id = v.image_id
        where i.project_id = ${projectId} and v.data_status = 'ready') as used,
      (select coalesce(sum(coalesce(v.bytes_total, v.bytes_received)), 0) from image_versions v join images i on i.id = v.image_id
        where i.project_id = ${projectId} and v.data_status in ('queued', 'uploading', 'importing'))
      + (select coalesce(sum(c.reserved_bytes), 0) from clones c where c.project_id = ${projectId} and c.status in ('queued', 'running'))
      + (select coalesce(sum(b.reserved_bytes), 0) from builds b join recipe_revisions rr on rr.id = b.revision_id join images oi on oi.id = rr.output_image_id
          where oi.project_id = ${projectId} and b.status in ('queued', 'running')) as reserved`);
  const row = result.rows[0];
  return { usedBytes: Number(row?.used ?? 0), reservedBytes: Number(row?.reserved ?? 0) };
}

/**
 * The quota rule, for everything that adds bytes to a project: what is free is the quota less
 * what is stored and what others hold for work in flight; `held` is what the caller itself
 * reserved earlier and is now replacing with a real size. Call it with the project row locked.
 */
export async function freeQuotaBytes(
  tx: Tx | Database,
  projectId: string,
  quotaBytes: number,
  held = 0,
): Promise<number> {
  const usage = await projectUsage(tx, projectId);
  return quotaBytes - usage.usedBytes - (usage.reservedBytes - held);
}

/**
 * Locks a project's row for a quota decision, so two writers can't both take the last free bytes;
 * null when the project is gone. Every quota check that adds bytes starts here.
 */
export async function lockProjectQuota(
  tx: Tx,
  projectId: string,
): Promise<{ quotaBytes: number; name: string } | null> {
  const [project] = await tx
    .select({ quotaBytes: projects.quotaBytes, name: projects.name })
    .from(projects)
    .where(eq(projects.id, projectId))
    .for("update");
  return project ?? null;
}

/**
 * Locks the project row and refuses `needed` bytes that don't fit, saying how much is needed and
 * how much is free. `what` starts the sentence: "This clone", "This build".
 */
export async function refuseOverQuota(
  tx: Tx,
  { projectId, needed, held = 0, what }: { projectId: string; needed: number; held?: number; what: string },
): Promise<void> {
  const project = await lockProjectQuota(tx, projectId);
  if (!project) throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  const free = await freeQuotaBytes(tx, projectId, project.quotaBytes, held);
  if (needed > free) {
    throw new HangarError(
      "invalid",
      `${what} needs ${formatBytes(needed)} but ${project.name} has ${formatBytes(Math.max(free, 0))} of its ${formatBytes(project.quotaBytes)} quota free. Free ${formatBytes(needed - Math.max(free, 0))} (delete old versions) or ask an admin for more quota. Nothing was created.`,
    );
  }
}

/**
 * Refuses an imported file of `bytes` that doesn't fit the project's free quota, saying how much is
 * free and what to do. Call it with the project row locked; `held` as for freeQuotaBytes.
 */
export async function refuseImportOverQuota(
  tx: Tx,
  { projectId, quotaBytes, bytes, held = 0 }: { projectId: string; quotaBytes: number; bytes: number; held?: number },
): Promise<number> {
  const free = await freeQuotaBytes(tx, projectId, quotaBytes, held);
  if (bytes > free) {
    throw new HangarError(
      "invalid",
      `This file (${formatBytes(bytes)}) does not fit in the project's storage quota: ${formatBytes(Math.max(free, 0))} of ${formatBytes(quotaBytes)} is free. Delete old versions or ask an admin for more quota.`,
    );
  }
  return free;
}
