import { and, eq, lt, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { formatBytes } from "@/lib/format";
import { db } from "../client";
import { blobs, imageVersions, images, projects, uploads, type DiskFormat, type VersionSource } from "../schema";
import { recordAudit } from "./audit";
import { AccessDenied, imageInProjectCondition, imageRefusal, visibleImagesCondition } from "./access";
import { refreshImageLatest } from "./images";
import type { Viewer } from "./users";

type Tx = Parameters<Parameters<ReturnType<typeof db>["transaction"]>[0]>[0];

/** Bytes a project holds: its ready versions plus what its in-flight imports, clones and builds have reserved. */
export async function projectUsage(tx: Tx | ReturnType<typeof db>, projectId: string): Promise<{ usedBytes: number; reservedBytes: number }> {
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
export async function freeQuotaBytes(tx: Tx | ReturnType<typeof db>, projectId: string, quotaBytes: number, held = 0): Promise<number> {
  const usage = await projectUsage(tx, projectId);
  return quotaBytes - usage.usedBytes - (usage.reservedBytes - held);
}

/**
 * Locks the project row and refuses `needed` bytes that don't fit, saying how much is needed and
 * how much is free. `what` starts the sentence: "This clone", "This build".
 */
export async function refuseOverQuota(tx: Tx, { projectId, needed, held = 0, what }: { projectId: string; needed: number; held?: number; what: string }): Promise<void> {
  const [project] = await tx.select({ quotaBytes: projects.quotaBytes, name: projects.name }).from(projects).where(eq(projects.id, projectId)).for("update");
  if (!project) throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  const free = await freeQuotaBytes(tx, projectId, project.quotaBytes, held);
  if (needed > free) {
    throw new HangarError(
      "invalid",
      `${what} needs ${formatBytes(needed)} but ${project.name} has ${formatBytes(Math.max(free, 0))} of its ${formatBytes(project.quotaBytes)} quota free. Free ${formatBytes(needed - Math.max(free, 0))} (delete old versions) or ask an admin for more quota. Nothing was created.`,
    );
  }
}

export interface NewImportVersion {
  viewer: Viewer;
  imageId: string;
  version: string;
  source: Extract<VersionSource, "upload" | "url">;
  declaredLength: number | null;
  claimedFormat: DiskFormat | null;
  expectedSha256: string | null;
  filename: string;
  sourceUrl?: string;
  upload?: { id: string; expiresAt: Date };
}

/**
 * Creates the version an import will fill, after checking the caller may write to the image and
 * that the project's quota has room for the declared size. Locks the project row so two imports
 * can't both squeeze into the last free bytes.
 */
export async function createImportVersion(input: NewImportVersion): Promise<{ versionId: string; projectId: string; imageSlug: string; quotaBytes: number }> {
  return db().transaction(async (tx) => {
    const [image] = await tx
      .select({
        id: images.id,
        slug: images.slug,
        projectId: images.projectId,
        visible: sql<boolean>`${visibleImagesCondition(input.viewer, "images")}`,
        writable: sql<boolean>`${imageInProjectCondition(input.viewer, "contribute")}`,
      })
      .from(images)
      .where(eq(images.id, input.imageId));
    if (!image?.writable) throw imageRefusal(input.viewer, image ?? null, "contribute", "add versions to its images");
    const [project] = await tx
      .select({ quotaBytes: projects.quotaBytes })
      .from(projects)
      .where(eq(projects.id, image.projectId))
      .for("update");
    if (!project) throw new AccessDenied([input.imageId]);
    const free = await freeQuotaBytes(tx, image.projectId, project.quotaBytes);
    if (input.declaredLength !== null && input.declaredLength > free) {
      throw new HangarError(
        "invalid",
        `This file (${formatBytes(input.declaredLength)}) does not fit in the project's storage quota: ${formatBytes(Math.max(free, 0))} of ${formatBytes(project.quotaBytes)} is free. Delete old versions or ask an admin for more quota.`,
      );
    }
    const [clash] = await tx
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(and(eq(imageVersions.imageId, image.id), eq(imageVersions.version, input.version)));
    if (clash) throw new HangarError("conflict", `Version ${input.version} already exists for this image; choose another version number.`);
    const [version] = await tx
      .insert(imageVersions)
      .values({
        imageId: image.id,
        version: input.version,
        source: input.source,
        sourceUrl: input.sourceUrl ?? null,
        dataStatus: input.source === "upload" ? "uploading" : "queued",
        releaseStatus: "draft",
        bytesTotal: input.declaredLength,
        originalFilename: input.filename || null,
        createdById: input.viewer.id,
      })
      .returning({ id: imageVersions.id });
    if (!version) throw new Error("inserting the version returned nothing");
    if (input.upload) {
      await tx.insert(uploads).values({
        id: input.upload.id,
        userId: input.viewer.id,
        versionId: version.id,
        projectId: image.projectId,
        declaredLength: input.declaredLength ?? 0,
        claimedFormat: input.claimedFormat,
        expectedSha256: input.expectedSha256,
        filename: input.filename,
        expiresAt: input.upload.expiresAt,
      });
    }
    await refreshImageLatest(tx, image.id);
    await recordAudit(
      {
        actorId: input.viewer.id,
        action: input.source === "upload" ? "version.upload_start" : "version.url_import_start",
        objectType: "version",
        objectId: version.id,
        after: { imageId: image.id, version: input.version, declaredLength: input.declaredLength, claimedFormat: input.claimedFormat, sourceUrl: input.sourceUrl },
      },
      tx,
    );
    return { versionId: version.id, projectId: image.projectId, imageSlug: image.slug, quotaBytes: project.quotaBytes };
  });
}

export interface UploadSession {
  id: string;
  userId: string;
  versionId: string;
  projectId: string;
  declaredLength: number;
  claimedFormat: DiskFormat | null;
  expectedSha256: string | null;
  filename: string;
  status: string;
  expiresAt: Date;
}

const uploadColumns = {
  id: uploads.id,
  userId: uploads.userId,
  versionId: uploads.versionId,
  projectId: uploads.projectId,
  declaredLength: uploads.declaredLength,
  claimedFormat: uploads.claimedFormat,
  expectedSha256: uploads.expectedSha256,
  filename: uploads.filename,
  status: uploads.status,
  expiresAt: uploads.expiresAt,
};

/** An upload session is visible only to the user who made it: anyone else gets null (a 404). */
export async function getUploadForUser({ id, userId }: { id: string; userId: string }): Promise<UploadSession | null> {
  const [row] = await db()
    .select(uploadColumns)
    .from(uploads)
    .where(and(eq(uploads.id, id), eq(uploads.userId, userId)));
  return row ?? null;
}

export async function getUpload({ id }: { id: string }): Promise<UploadSession | null> {
  const [row] = await db().select(uploadColumns).from(uploads).where(eq(uploads.id, id));
  return row ?? null;
}

export async function recordImportProgress({ versionId, bytesReceived, uploadId }: { versionId: string; bytesReceived: number; uploadId?: string }) {
  await db().update(imageVersions).set({ bytesReceived }).where(eq(imageVersions.id, versionId));
  if (uploadId) await db().update(uploads).set({ receivedBytes: bytesReceived, updatedAt: sql`now()` }).where(eq(uploads.id, uploadId));
}

export async function setVersionDataStatus({ versionId, status }: { versionId: string; status: "uploading" | "importing" }) {
  await db().update(imageVersions).set({ dataStatus: status }).where(eq(imageVersions.id, versionId));
}

export interface VerifiedFile {
  format: DiskFormat;
  virtualSize: number;
  fileSize: number;
  sha256: string;
  sha512: string;
  inspection: Record<string, unknown>;
}

/** Flips a version to ready in one transaction, once its bytes are in the blob store. */
export async function completeImport({ versionId, uploadId, actorId, file }: { versionId: string; uploadId?: string; actorId: string | null; file: VerifiedFile }) {
  await db().transaction(async (tx) => {
    await tx.insert(blobs).values({ sha256: file.sha256, sha512: file.sha512, size: file.fileSize }).onConflictDoNothing();
    const [version] = await tx
      .update(imageVersions)
      .set({
        dataStatus: "ready",
        failureReason: null,
        format: file.format,
        virtualSize: file.virtualSize,
        fileSize: file.fileSize,
        bytesReceived: file.fileSize,
        sha256: file.sha256,
        sha512: file.sha512,
        inspection: file.inspection,
      })
      .where(and(eq(imageVersions.id, versionId), sql`${imageVersions.dataStatus} in ('queued', 'uploading', 'importing')`))
      .returning({ imageId: imageVersions.imageId });
    if (!version) throw new HangarError("conflict", "This import was cancelled or already finished.");
    if (uploadId) await tx.update(uploads).set({ status: "completed", receivedBytes: file.fileSize, updatedAt: sql`now()` }).where(eq(uploads.id, uploadId));
    await refreshImageLatest(tx, version.imageId);
    await recordAudit(
      { actorId, action: "version.ready", objectType: "version", objectId: versionId, after: { format: file.format, sha256: file.sha256, fileSize: file.fileSize } },
      tx,
    );
  });
}

/** Ends an import as failed with a reason a person can act on. Idempotent. */
export async function failImport({ versionId, uploadId, actorId, reason, status = "failed" }: { versionId: string; uploadId?: string; actorId: string | null; reason: string; status?: "failed" | "cancelled" }) {
  await db().transaction(async (tx) => {
    const [version] = await tx
      .update(imageVersions)
      .set({ dataStatus: "failed", failureReason: reason })
      .where(and(eq(imageVersions.id, versionId), sql`${imageVersions.dataStatus} <> 'ready'`))
      .returning({ imageId: imageVersions.imageId });
    if (uploadId) await tx.update(uploads).set({ status, updatedAt: sql`now()` }).where(and(eq(uploads.id, uploadId), eq(uploads.status, "active")));
    if (version) {
      await refreshImageLatest(tx, version.imageId);
      await recordAudit({ actorId, action: status === "cancelled" ? "version.import_cancelled" : "version.import_failed", objectType: "version", objectId: versionId, after: { reason } }, tx);
    }
  });
}

export async function listExpiredActiveUploads({ now = new Date() }: { now?: Date } = {}) {
  return db().select(uploadColumns).from(uploads).where(and(eq(uploads.status, "active"), lt(uploads.expiresAt, now)));
}

export async function listActiveUploadIds(): Promise<Set<string>> {
  const rows = await db().select({ id: uploads.id }).from(uploads).where(eq(uploads.status, "active"));
  return new Set(rows.map((row) => row.id));
}
