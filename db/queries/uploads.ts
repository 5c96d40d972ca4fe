import type { StoredInspection } from "@/lib/images/inspector/types";
import { and, eq, lt, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db } from "../client";
import { blobs, imageVersions, images, uploads, type DiskFormat, type VersionSource } from "../schema";
import { recordAudit } from "./audit";
import { insertContentScanRequest } from "./content-scans";
import { AccessDenied, imageInProjectCondition, imageRefusal, visibleImagesCondition } from "./access";
import { refreshImageLatest } from "./images";
import { liveProcessSql } from "./processes";
import { lockProjectQuota, refuseImportOverQuota } from "./storage-usage";
import type { Viewer } from "./users";

export interface NewImportVersion {
  viewer: Viewer;
  /** The image, by id or (the CLI's push, which then needs no lookup first) by slug. */
  imageId?: string;
  imageSlug?: string;
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
export async function createImportVersion(
  input: NewImportVersion,
): Promise<{ versionId: string; projectId: string; imageSlug: string; quotaBytes: number }> {
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
      .where(input.imageId ? eq(images.id, input.imageId) : eq(images.slug, input.imageSlug ?? ""));
    if (!image?.writable) throw imageRefusal(input.viewer, image ?? null, "contribute", "add versions to its images");
    const project = await lockProjectQuota(tx, image.projectId);
    if (!project) throw new AccessDenied([image.id]);
    if (input.declaredLength !== null)
      await refuseImportOverQuota(tx, {
        projectId: image.projectId,
        quotaBytes: project.quotaBytes,
        bytes: input.declaredLength,
      });
    const [clash] = await tx
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(and(eq(imageVersions.imageId, image.id), eq(imageVersions.version, input.version)));
    if (clash)
      throw new HangarError(
        "conflict",
        `Version ${input.version} already exists for this image; choose another version number.`,
      );
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
        after: {
          imageId: image.id,
          version: input.version,
          declaredLength: input.declaredLength,
          claimedFormat: input.claimedFormat,
          sourceUrl: input.sourceUrl,
        },
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

export async function recordImportProgress({
  versionId,
  bytesReceived,
  uploadId,
}: {
  versionId: string;
  bytesReceived: number;
  uploadId?: string;
}) {
  await db().update(imageVersions).set({ bytesReceived }).where(eq(imageVersions.id, versionId));
  if (uploadId)
    await db()
      .update(uploads)
      .set({ receivedBytes: bytesReceived, updatedAt: sql`now()` })
      .where(eq(uploads.id, uploadId));
}

export async function setVersionDataStatus({
  versionId,
  status,
}: {
  versionId: string;
  status: "uploading" | "importing";
}) {
  await db().update(imageVersions).set({ dataStatus: status }).where(eq(imageVersions.id, versionId));
}

/**
 * The upload's last byte arrived: `processId` finalises it now (the version is 'importing'), and
 * until that process dies no other one takes the import for interrupted.
 */
export async function startUploadFinalisation({
  uploadId,
  versionId,
  processId,
}: {
  uploadId: string;
  versionId: string;
  processId: string | null;
}) {
  await db().transaction(async (tx) => {
    await tx
      .update(uploads)
      .set({ processId, updatedAt: sql`now()` })
      .where(eq(uploads.id, uploadId));
    await tx.update(imageVersions).set({ dataStatus: "importing" }).where(eq(imageVersions.id, versionId));
  });
}

export interface VerifiedFile {
  format: DiskFormat;
  virtualSize: number;
  fileSize: number;
  sha256: string;
  /** Null only when hashed without it; blob.checksums then computes it. */
  sha512: string | null;
  inspection: StoredInspection;
  /** In a bucket, where the bytes already are when not under their sha256 (an upload's `uploads/<id>`). */
  objectKey?: string | null;
}

/** Flips a version to ready in one transaction, once its bytes are in the blob store. */
export async function completeImport({
  versionId,
  uploadId,
  actorId,
  file,
}: {
  versionId: string;
  uploadId?: string;
  actorId: string | null;
  file: VerifiedFile;
}): Promise<{ scanRequested: boolean; blobCreated: boolean }> {
  return db().transaction(async (tx) => {
    const created = await tx
      .insert(blobs)
      .values({ sha256: file.sha256, sha512: file.sha512, size: file.fileSize, objectKey: file.objectKey ?? null })
      .onConflictDoNothing()
      .returning({ sha256: blobs.sha256 });
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
      .where(
        and(eq(imageVersions.id, versionId), sql`${imageVersions.dataStatus} in ('queued', 'uploading', 'importing')`),
      )
      .returning({ imageId: imageVersions.imageId });
    if (!version) throw new HangarError("conflict", "This import was cancelled or already finished.");
    if (uploadId)
      await tx
        .update(uploads)
        .set({ status: "completed", receivedBytes: file.fileSize, updatedAt: sql`now()` })
        .where(eq(uploads.id, uploadId));
    await refreshImageLatest(tx, version.imageId);
    await recordAudit(
      {
        actorId,
        action: "version.ready",
        objectType: "version",
        objectId: versionId,
        after: { format: file.format, sha256: file.sha256, fileSize: file.fileSize },
      },
      tx,
    );
    // New bytes get their content read; the caller sends the job once this commits.
    return {
      scanRequested: await insertContentScanRequest(tx, { sha256: file.sha256 }),
      blobCreated: created.length > 0,
    };
  });
}

/** Ends an import as failed with a reason a person can act on. Idempotent. */
export async function failImport({
  versionId,
  uploadId,
  actorId,
  reason,
  status = "failed",
}: {
  versionId: string;
  uploadId?: string;
  actorId: string | null;
  reason: string;
  status?: "failed" | "cancelled";
}) {
  await db().transaction(async (tx) => {
    const [version] = await tx
      .update(imageVersions)
      .set({ dataStatus: "failed", failureReason: reason })
      .where(and(eq(imageVersions.id, versionId), sql`${imageVersions.dataStatus} <> 'ready'`))
      .returning({ imageId: imageVersions.imageId });
    if (uploadId)
      await tx
        .update(uploads)
        .set({ status, updatedAt: sql`now()` })
        .where(and(eq(uploads.id, uploadId), eq(uploads.status, "active")));
    if (version) {
      await refreshImageLatest(tx, version.imageId);
      await recordAudit(
        {
          actorId,
          action: status === "cancelled" ? "version.import_cancelled" : "version.import_failed",
          objectType: "version",
          objectId: versionId,
          after: { reason },
        },
        tx,
      );
    }
  });
}

/** Active uploads past their expiry, except one a live process is finalising right now. */
export async function listExpiredActiveUploads({
  leaseSeconds,
  now = new Date(),
}: {
  leaseSeconds: number;
  now?: Date;
}) {
  return db()
    .select(uploadColumns)
    .from(uploads)
    .where(
      and(
        eq(uploads.status, "active"),
        lt(uploads.expiresAt, now),
        sql`not (${uploads.processId} is not null and ${liveProcessSql(sql`${uploads.processId}`, leaseSeconds)})`,
      ),
    );
}

export interface HeldUpload {
  declaredLength: number;
  createdAt: Date;
  s3UploadId: string | null;
  durableBytes: number;
}

/**
 * Takes an active upload for `processId` for the length of one request, unless another process
 * whose lease holds has it: null then (and when the upload is not active).
 */
export async function holdUpload({
  id,
  processId,
  leaseSeconds,
}: {
  id: string;
  processId: string | null;
  leaseSeconds: number;
}): Promise<HeldUpload | null> {
  const [row] = await db()
    .update(uploads)
    .set({ processId, updatedAt: sql`now()` })
    .where(
      and(
        eq(uploads.id, id),
        eq(uploads.status, "active"),
        sql`(${uploads.processId} is null or ${uploads.processId} = ${processId}::uuid
          or not ${liveProcessSql(sql`${uploads.processId}`, leaseSeconds)})`,
      ),
    )
    .returning({
      declaredLength: uploads.declaredLength,
      createdAt: uploads.createdAt,
      s3UploadId: uploads.s3UploadId,
      durableBytes: uploads.durableBytes,
    });
  return row ?? null;
}

/** Lets go of an upload between requests: any process may take it then. */
export async function releaseUpload({ id, processId }: { id: string; processId: string | null }): Promise<void> {
  if (processId === null) return;
  await db()
    .update(uploads)
    .set({ processId: null, updatedAt: sql`now()` })
    .where(and(eq(uploads.id, id), eq(uploads.processId, processId), eq(uploads.status, "active")));
}

/**
 * Records the multipart upload an upload's parts go to and how many bytes from the start are
 * parts of it. With `replacing`, only while the row still names that one (a process that lost the
 * upload to another one records nothing). Returns whether it was recorded.
 */
export async function recordUploadParts({
  id,
  s3UploadId,
  durableBytes,
  replacing,
}: {
  id: string;
  s3UploadId: string;
  durableBytes: number;
  replacing?: string | null;
}): Promise<boolean> {
  const current =
    replacing === undefined
      ? sql`true`
      : replacing === null
        ? sql`${uploads.s3UploadId} is null`
        : eq(uploads.s3UploadId, replacing);
  const updated = await db()
    .update(uploads)
    .set({ s3UploadId, durableBytes })
    .where(and(eq(uploads.id, id), current))
    .returning({ id: uploads.id });
  return updated.length > 0;
}

/** Ids of active uploads and the object keys blob rows name, read at one instant. */
export async function listLiveUploadObjects(): Promise<{ activeUploads: Set<string>; blobKeys: Set<string> }> {
  const result = await db().execute<{ kind: string; name: string }>(sql`
    select 'upload' as kind, id as name from uploads where status = 'active'
    union all select 'blob', object_key from blobs where object_key is not null`);
  const activeUploads = new Set<string>();
  const blobKeys = new Set<string>();
  for (const row of result.rows) (row.kind === "upload" ? activeUploads : blobKeys).add(row.name);
  return { activeUploads, blobKeys };
}

export async function listActiveUploadIds(): Promise<Set<string>> {
  const rows = await db().select({ id: uploads.id }).from(uploads).where(eq(uploads.status, "active"));
  return new Set(rows.map((row) => row.id));
}
