// What the import jobs ask of the database beyond the version's own life cycle (db/queries/uploads.ts):
// where a URL import lands and the room it may take, and which imports a crash left half-done.
import { eq, sql } from "drizzle-orm";
import { db } from "../client";
import { imageVersions, images, projects, type DataStatus } from "../schema";
import { liveProcessSql } from "./processes";
import { freeQuotaBytes, lockProjectQuota, refuseImportOverQuota } from "./storage-usage";

/** The version a URL import fills, with its project and quota; null when it is gone. */
export async function getUrlImportTarget({
  versionId,
}: {
  versionId: string;
}): Promise<{ dataStatus: DataStatus; projectId: string; quotaBytes: number } | null> {
  const [row] = await db()
    .select({ dataStatus: imageVersions.dataStatus, projectId: images.projectId, quotaBytes: projects.quotaBytes })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .innerJoin(projects, eq(projects.id, images.projectId))
    .where(eq(imageVersions.id, versionId));
  return row ?? null;
}

/**
 * The quota rule uploads follow, for an import whose size is known only once its download starts:
 * under the project's lock, refuses a file that doesn't fit (a HangarError saying how much is free)
 * and reserves its size on the version. Returns the bytes this import may take at most.
 */
export async function reserveImportBytes({
  versionId,
  bytes,
}: {
  versionId: string;
  bytes: number | null;
}): Promise<number> {
  return db().transaction(async (tx) => {
    const [version] = await tx
      .select({
        projectId: images.projectId,
        held: sql<string>`coalesce(${imageVersions.bytesTotal}, ${imageVersions.bytesReceived})`,
      })
      .from(imageVersions)
      .innerJoin(images, eq(images.id, imageVersions.imageId))
      .where(eq(imageVersions.id, versionId));
    if (!version) throw new Error(`version ${versionId} is gone`);
    const project = await lockProjectQuota(tx, version.projectId);
    if (!project) throw new Error(`the project of version ${versionId} is gone`);
    const held = Number(version.held);
    // Of unknown size, the download itself stops where the free bytes end.
    if (bytes === null) return freeQuotaBytes(tx, version.projectId, project.quotaBytes, held);
    const free = await refuseImportOverQuota(tx, {
      projectId: version.projectId,
      quotaBytes: project.quotaBytes,
      bytes,
      held,
    });
    await tx.update(imageVersions).set({ bytesTotal: bytes }).where(eq(imageVersions.id, versionId));
    return free;
  });
}

/**
 * Imports nobody can finish: 'importing' uploads whose finalising process died (or that recorded
 * none, from before processes did), 'uploading' ones that lost their upload session, and URL
 * imports whose job no longer exists (given a minute: the job is sent just after the version).
 */
export async function listInterruptedImports({
  leaseSeconds,
}: {
  leaseSeconds: number;
}): Promise<{ versionId: string; uploadId: string | null }[]> {
  const queueExists = (
    await db().execute<{ present: boolean }>(sql`select to_regclass('pgboss.job') is not null as present`)
  ).rows[0]?.present;
  const noLiveJob = queueExists
    ? sql`not exists (select 1 from pgboss.job j where j.name in ('image.import-url', 'demo.debian-image') and j.data->>'versionId' = v.id::text and j.state in ('created', 'retry', 'active'))`
    : sql`true`;
  const interrupted = await db().execute<{ versionId: string; uploadId: string | null }>(sql`
    select v.id as "versionId",
      (select u.id from uploads u where u.version_id = v.id and u.status = 'active' limit 1) as "uploadId"
    from image_versions v
    where (v.data_status = 'importing' and v.source = 'upload' and not exists (select 1 from uploads u
             where u.version_id = v.id and u.process_id is not null and ${liveProcessSql(sql`u.process_id`, leaseSeconds)}))
       or (v.data_status = 'uploading' and not exists (select 1 from uploads u where u.version_id = v.id and u.status = 'active'))
       or (v.data_status in ('queued', 'importing') and v.source = 'url' and v.created_at < now() - interval '1 minute' and ${noLiveJob})`);
  return interrupted.rows;
}
