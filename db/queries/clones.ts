// Clones: an approved version copied into a project the caller contributes to, either linked (a
// qcow2 overlay on the source's blob: instant, a few hundred KiB) or full (a flattened copy made
// by a queued job), optionally with an identity reset by virt-sysprep. The new version (and the
// new image, when one was asked for) is written only when the bytes are stored, in one transaction
// that re-checks the target and the quota; until then only the request row exists.
import type { StoredInspection } from "@/lib/images/inspector/types";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { isCurrentRelease, notCloneableWords } from "@/lib/governance/release";
import { db, type Database } from "../client";
import type { IdentityResetOperation } from "../enums";
import {
  blobs,
  clones,
  imageVersions,
  images,
  projects,
  users,
  type CloneMode,
  type CloneStatus,
  type DiskFormat,
  type ReleaseStatus,
} from "../schema";
import { canInProject, projectScopedCondition, requireInProject, visibleVersionCondition } from "./access";
import { recordAudit } from "./audit";
import { createImage, createReadyVersion } from "./images";
import { refuseOverQuota } from "./storage-usage";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** virt-sysprep operations an identity reset may run, with what each does in words. */

/** What a linked clone's overlay is held to before it exists: its header and a little growth. */
export const LINKED_RESERVATION = 1024 ** 2;
/** virt-sysprep writes into the overlay: a linked clone with a reset holds this much until done. */
export const LINKED_RESET_RESERVATION = 64 * 1024 ** 2;

export interface CloneSource {
  versionId: string;
  imageSlug: string;
  version: string;
  fileSize: number;
  /** When the source is itself a linked clone: the size of the blob its overlay sits on. */
  backing: { fileSize: number } | null;
}

export interface CloneTarget {
  projectId: string;
  /** An image of that project that gets the new version… */
  imageId?: string;
  /** …or a new image to create in it. */
  newImage?: { slug: string; name: string };
  version: string;
}

export interface CloneRequestInput {
  viewer: Viewer | null;
  sourceVersionId: string;
  target: CloneTarget;
  mode: CloneMode;
  resetOperations: IdentityResetOperation[];
}

/**
 * Loads the source for a viewer who sees it, or explains why it can't be cloned. An approved
 * version the viewer sees is one they may use (access.ts), so seeing and approval decide.
 */
async function loadCloneSource(viewer: Viewer, versionId: string): Promise<CloneSource> {
  if (!isUuid(versionId)) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  const result = await db().execute<Record<string, unknown>>(sql`
    select v.id, i.slug, v.version, v.format, v.sha256, v.file_size, v.data_status, v.release_status, bv.file_size as backing_file_size
    from image_versions v join images i on i.id = v.image_id
    left join image_versions bv on bv.id = v.backing_version_id
    where v.id = ${versionId} and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}`);
  const row = result.rows[0];
  if (!row) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  const label = `${String(row.slug)} ${String(row.version)}`;
  if (row.data_status !== "ready" || !row.sha256 || !row.format)
    throw new HangarError(
      "conflict",
      `${label} has no stored file (it is ${String(row.data_status)}); only ready versions can be cloned.`,
    );
  const status = row.release_status as ReleaseStatus;
  if (!isCurrentRelease(status))
    throw new HangarError(
      "conflict",
      `${label} can't be cloned: ${notCloneableWords[status] ?? "it is not approved"}. Only approved versions are cloned.`,
    );
  return {
    versionId: String(row.id),
    imageSlug: String(row.slug),
    version: String(row.version),
    fileSize: Number(row.file_size),
    backing: row.backing_file_size === null ? null : { fileSize: Number(row.backing_file_size) },
  };
}

/** What the clone will hold in the project's quota while it is made. */
function cloneReservation(source: CloneSource, mode: CloneMode, resetting: boolean): number {
  if (mode === "linked") return resetting ? LINKED_RESET_RESERVATION : LINKED_RESERVATION;
  // A full copy holds everything the source reads from: its own bytes and those beneath it.
  return source.fileSize + (source.backing?.fileSize ?? 0);
}

/** Checks the target inside a transaction (project row locked); throws what is wrong. */
async function checkTarget(tx: Tx, target: CloneTarget): Promise<{ image: { id: string; slug: string } | null }> {
  const [project] = await tx
    .select({ id: projects.id })
    .from(projects)
    .where(eq(projects.id, target.projectId))
    .for("update");
  if (!project) throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  if (target.imageId) {
    const [image] = await tx
      .select({ id: images.id, projectId: images.projectId, slug: images.slug })
      .from(images)
      .where(eq(images.id, target.imageId));
    if (!image || image.projectId !== target.projectId) {
      throw new HangarError(
        "invalid",
        "The clone goes into an image of the chosen project; pick one of its images or name a new one.",
        { imageId: ["Not an image of this project."] },
      );
    }
    const [clash] = await tx
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(and(eq(imageVersions.imageId, image.id), eq(imageVersions.version, target.version)));
    if (clash)
      throw new HangarError(
        "conflict",
        `${image.slug} already has a version ${target.version}; choose another version number.`,
        { version: ["This version exists already."] },
      );
    return { image: { id: image.id, slug: image.slug } };
  }
  if (!target.newImage)
    throw new HangarError("invalid", "Pick an image of the project for the clone, or name a new one.");
  const [taken] = await tx.select({ id: images.id }).from(images).where(eq(images.slug, target.newImage.slug));
  if (taken)
    throw new HangarError("conflict", `The short name ${target.newImage.slug} is taken; choose another.`, {
      slug: ["This short name is taken."],
    });
  return { image: null };
}

export interface RequestedClone {
  cloneId: string;
  /** Whether a job must make it; otherwise the caller runs it at once. */
  queue: boolean;
}

/**
 * Whether the clone is the source's own bytes (a full clone of a self-contained version without
 * reset): the content-addressed blob is shared, nothing is copied.
 */
export function sharesSourceBytes(mode: CloneMode, resetOperations: readonly string[], sourceLinked: boolean): boolean {
  return mode === "full" && resetOperations.length === 0 && !sourceLinked;
}

/**
 * Checks everything a clone needs (who, what, where, room) and records the request. A linked clone
 * without identity reset is made by the caller right away (`queue: false`); the rest by a job.
 */
export async function requestClone(input: CloneRequestInput): Promise<RequestedClone> {
  const { viewer, target, mode } = input;
  requireInProject(viewer, target.projectId, "contribute", "clone images into it");
  const source = await loadCloneSource(viewer!, input.sourceVersionId);
  const resetOperations = [...new Set(input.resetOperations)];
  const reservedBytes = cloneReservation(source, mode, resetOperations.length > 0);
  const clone = await db().transaction(async (tx) => {
    const checked = await checkTarget(tx, target);
    await refuseOverQuota(tx, { projectId: target.projectId, needed: reservedBytes, what: "This clone" });
    const [row] = await tx
      .insert(clones)
      .values({
        sourceVersionId: source.versionId,
        projectId: target.projectId,
        targetImageId: checked.image?.id ?? null,
        newImage: target.newImage ?? null,
        version: target.version,
        mode,
        resetOperations,
        reservedBytes,
        requestedById: viewer!.id,
        stage: "Waiting for a worker",
      })
      .returning({ id: clones.id });
    await recordAudit(
      {
        actorId: viewer!.id,
        action: "clone.request",
        objectType: "clone",
        objectId: row!.id,
        after: { source: `${source.imageSlug} ${source.version}`, mode, resetOperations, target },
      },
      tx,
    );
    return row!;
  });
  // Nothing to wait for: a linked clone without reset is an overlay of a few hundred KiB, and some
  // full clones are the source's own bytes.
  const immediate =
    (mode === "linked" && resetOperations.length === 0) ||
    sharesSourceBytes(mode, resetOperations, source.backing !== null);
  return { cloneId: clone.id, queue: !immediate };
}

/** What a worker needs to make the bytes; where they go is completeClone's business. */
export interface CloneWork {
  id: string;
  mode: CloneMode;
  resetOperations: IdentityResetOperation[];
  source: {
    versionId: string;
    sha256: string;
    /** Null while blob.checksums has not computed it yet. */
    sha512: string | null;
    size: number;
    format: DiskFormat;
    virtualSize: number;
    inspection: StoredInspection | null;
    /** Whether the source is itself a linked clone (its file needs its base). */
    linked: boolean;
  };
}

/** Takes a queued clone for a worker (or a retried one whose worker died); null when not runnable. */
export async function claimClone(cloneId: string): Promise<CloneWork | null> {
  const [row] = await db()
    .update(clones)
    .set({ status: "running", stage: "Starting", progress: 0, startedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(clones.id, cloneId), inArray(clones.status, ["queued", "running"])))
    .returning();
  if (!row) return null;
  const [source] = await db()
    .select({
      sha256: imageVersions.sha256,
      // The blob holds it: a version made before blob.checksums finished has none of its own.
      sha512: blobs.sha512,
      fileSize: imageVersions.fileSize,
      format: imageVersions.format,
      virtualSize: imageVersions.virtualSize,
      inspection: imageVersions.inspection,
      backingVersionId: imageVersions.backingVersionId,
    })
    .from(imageVersions)
    .leftJoin(blobs, eq(blobs.sha256, imageVersions.sha256))
    .where(eq(imageVersions.id, row.sourceVersionId));
  if (!source?.sha256 || !source.format || source.fileSize === null) {
    await failClone(cloneId, "The source version no longer has a stored file.");
    return null;
  }
  return {
    id: row.id,
    mode: row.mode,
    resetOperations: row.resetOperations as IdentityResetOperation[],
    source: {
      versionId: row.sourceVersionId,
      sha256: source.sha256,
      sha512: source.sha512,
      size: source.fileSize,
      format: source.format,
      virtualSize: source.virtualSize ?? 0,
      inspection: source.inspection,
      linked: source.backingVersionId !== null,
    },
  };
}

export async function setCloneProgress(cloneId: string, values: { progress?: number; stage?: string }): Promise<void> {
  await db()
    .update(clones)
    .set({ ...values, updatedAt: sql`now()` })
    .where(and(eq(clones.id, cloneId), eq(clones.status, "running")));
}

/** A running clone's worker says it is alive; see sweepStaleClones. */
export async function heartbeatClone(cloneId: string): Promise<void> {
  await db()
    .update(clones)
    .set({ updatedAt: sql`now()` })
    .where(and(eq(clones.id, cloneId), eq(clones.status, "running")));
}

export const STALE_CLONE_REASON =
  "The worker making this clone stopped without finishing it (its process or machine died). Nothing was created; clone again.";

/** Ends clones whose worker stopped checking in; returns their ids so their work folders can go. */
export async function sweepStaleClones({ staleSeconds }: { staleSeconds: number }): Promise<string[]> {
  const rows = await db()
    .update(clones)
    .set({ status: "failed", failureReason: STALE_CLONE_REASON, stage: "Failed", finishedAt: sql`now()` })
    .where(and(eq(clones.status, "running"), sql`${clones.updatedAt} < now() - make_interval(secs => ${staleSeconds})`))
    .returning({ id: clones.id });
  return rows.map((row) => row.id);
}

export async function failClone(cloneId: string, reason: string): Promise<void> {
  await db()
    .update(clones)
    .set({ status: "failed", failureReason: reason, stage: "Failed", finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(clones.id, cloneId), inArray(clones.status, ["queued", "running"])));
}

export interface ClonedBytes {
  sha256: string;
  /** Null until blob.checksums computes it (a full clone's copy), or while the shared source's is. */
  sha512: string | null;
  size: number;
  format: DiskFormat;
  virtualSize: number;
  inspection: StoredInspection;
  /** For a linked clone: the version whose blob is the overlay's backing file. */
  backingVersionId: string | null;
}

/**
 * Writes the clone's version (and image) now that its bytes are in the blob store: re-checks the
 * target and the quota with the real size under the project's lock, all in one transaction.
 */
export async function completeClone(
  cloneId: string,
  bytes: ClonedBytes,
): Promise<{ imageSlug: string; version: string; versionId: string; scanRequested: boolean }> {
  return db().transaction(async (tx) => {
    const [clone] = await tx.select().from(clones).where(eq(clones.id, cloneId)).for("update");
    if (!clone || (clone.status !== "running" && clone.status !== "queued"))
      throw new HangarError("conflict", "This clone was already finished or given up.");
    const [source] = await tx
      .select({
        imageId: imageVersions.imageId,
        os: images.os,
        osVersion: images.osVersion,
        arch: images.arch,
        description: images.description,
      })
      .from(imageVersions)
      .innerJoin(images, eq(images.id, imageVersions.imageId))
      .where(eq(imageVersions.id, clone.sourceVersionId));
    if (!source) throw new HangarError("conflict", "The source version was deleted while it was being cloned.");
    const checked = await checkTarget(tx, {
      projectId: clone.projectId,
      imageId: clone.targetImageId ?? undefined,
      newImage: clone.newImage ?? undefined,
      version: clone.version,
    });
    await refuseOverQuota(tx, {
      projectId: clone.projectId,
      needed: bytes.size,
      held: clone.reservedBytes,
      what: "This clone",
    });
    const image =
      checked.image ??
      (await createImage({
        tx,
        actorId: clone.requestedById,
        values: {
          slug: clone.newImage!.slug,
          name: clone.newImage!.name,
          description: source.description,
          os: source.os,
          osVersion: source.osVersion,
          arch: source.arch,
          projectId: clone.projectId,
        },
      }));
    const version = await createReadyVersion({
      tx,
      actorId: clone.requestedById,
      values: {
        imageId: image.id,
        version: clone.version,
        format: bytes.format,
        virtualSize: bytes.virtualSize,
        fileSize: bytes.size,
        sha256: bytes.sha256,
        sha512: bytes.sha512,
        source: "clone",
        parentVersionId: clone.sourceVersionId,
        backingVersionId: bytes.backingVersionId ?? undefined,
        inspection: bytes.inspection,
        releaseStatus: "draft",
      },
    });
    await tx
      .update(clones)
      .set({
        status: "succeeded",
        progress: 100,
        stage: "Done",
        resultVersionId: version.id,
        finishedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(eq(clones.id, cloneId));
    await tx.execute(sql`update images set usage_count = usage_count + 1 where id = ${source.imageId}`);
    await recordAudit(
      {
        actorId: clone.requestedById,
        action: "clone.complete",
        objectType: "clone",
        objectId: cloneId,
        after: { versionId: version.id, image: image.slug, version: clone.version, mode: clone.mode },
      },
      tx,
    );
    return {
      imageSlug: image.slug,
      version: clone.version,
      versionId: version.id,
      scanRequested: version.scanRequested,
    };
  });
}

export interface CloneRow {
  id: string;
  status: CloneStatus;
  mode: CloneMode;
  resetOperations: string[];
  progress: number;
  stage: string;
  failureReason: string | null;
  sourceImageSlug: string;
  sourceVersion: string;
  targetLabel: string;
  result: { imageSlug: string; version: string } | null;
  projectSlug: string;
  requestedBy: string | null;
  createdAt: Date;
  sourceVersionId: string;
  /** The image the clone goes into (an existing one, or the new one it names) and its version label. */
  targetImageSlug: string | null;
  version: string;
  resultVersionId: string | null;
  /** The keyset position of this row (created_at in PostgreSQL's text form keeps its microseconds). */
  position: { createdAt: string; id: string };
}

/** Clones of the projects the viewer belongs to (all for admins), newest first. */
export async function listClones({
  viewer,
  projectId,
  cloneIds,
  after,
  limit = 50,
}: {
  viewer: Viewer;
  projectId?: string;
  cloneIds?: string[];
  /** Keyset paging: the clones after this row's `position` (newest first). */
  after?: { createdAt: string; id: string };
  limit?: number;
}): Promise<CloneRow[]> {
  const conditions = [projectScopedCondition(viewer, clones.projectId)];
  if (projectId) conditions.push(eq(clones.projectId, projectId));
  if (after)
    conditions.push(sql`(${clones.createdAt}, ${clones.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  if (cloneIds) {
    const ids = cloneIds.filter(isUuid);
    if (ids.length === 0) return [];
    conditions.push(inArray(clones.id, ids));
  }
  const rows = await db()
    .select({
      id: clones.id,
      status: clones.status,
      mode: clones.mode,
      resetOperations: clones.resetOperations,
      progress: clones.progress,
      stage: clones.stage,
      failureReason: clones.failureReason,
      sourceImageSlug: sql<string>`(select i.slug from image_versions v join images i on i.id = v.image_id where v.id = ${clones.sourceVersionId})`,
      sourceVersion: sql<string>`(select v.version from image_versions v where v.id = ${clones.sourceVersionId})`,
      targetSlug: sql<
        string | null
      >`coalesce((select slug from images where id = ${clones.targetImageId}), ${clones.newImage}->>'slug')`,
      version: clones.version,
      resultImageSlug: sql<
        string | null
      >`(select i.slug from image_versions v join images i on i.id = v.image_id where v.id = ${clones.resultVersionId})`,
      projectSlug: projects.slug,
      requestedBy: users.email,
      createdAt: clones.createdAt,
      createdAtText: sql<string>`${clones.createdAt}::text`,
      sourceVersionId: clones.sourceVersionId,
      resultVersionId: clones.resultVersionId,
    })
    .from(clones)
    .innerJoin(projects, eq(projects.id, clones.projectId))
    .leftJoin(users, eq(users.id, clones.requestedById))
    .where(and(...conditions))
    .orderBy(desc(clones.createdAt), desc(clones.id))
    .limit(limit);
  return rows.map((row) => ({
    id: row.id,
    status: row.status,
    mode: row.mode,
    resetOperations: row.resetOperations,
    progress: row.progress,
    stage: row.stage,
    failureReason: row.failureReason,
    sourceImageSlug: row.sourceImageSlug,
    sourceVersion: row.sourceVersion,
    targetLabel: `${row.targetSlug ?? "?"} ${row.version}`,
    result: row.resultImageSlug ? { imageSlug: row.resultImageSlug, version: row.version } : null,
    projectSlug: row.projectSlug,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt,
    sourceVersionId: row.sourceVersionId,
    targetImageSlug: row.targetSlug,
    version: row.version,
    resultVersionId: row.resultVersionId,
    position: { createdAt: row.createdAtText, id: row.id },
  }));
}

export interface CloneTargetProject {
  id: string;
  name: string;
  images: { id: string; slug: string; name: string }[];
}

/** Projects the viewer may clone into (member or owner; every project for admins), with their images. */
export async function listCloneTargets({ viewer }: { viewer: Viewer }): Promise<CloneTargetProject[]> {
  const rows = await db()
    .select({
      id: projects.id,
      name: projects.name,
      imageId: images.id,
      imageSlug: images.slug,
      imageName: images.name,
    })
    .from(projects)
    .leftJoin(images, eq(images.projectId, projects.id))
    .where(projectScopedCondition(viewer, projects.id, "contribute"))
    .orderBy(projects.name, images.name)
    .limit(2000);
  const byProject = new Map<string, CloneTargetProject>();
  for (const row of rows) {
    const project = byProject.get(row.id) ?? { id: row.id, name: row.name, images: [] };
    byProject.set(row.id, project);
    if (row.imageId && row.imageSlug && row.imageName)
      project.images.push({ id: row.imageId, slug: row.imageSlug, name: row.imageName });
  }
  return [...byProject.values()];
}

export interface VersionUsage {
  clones: number;
  builds: number;
  /** Per project; names only for admins and members of the version's own project. */
  byProject: { projectSlug: string | null; projectName: string | null; clones: number; builds: number }[];
}

/** How many clones and builds used a version, and by which projects. */
export async function getVersionUsage({
  viewer,
  versionId,
  ownerProjectId,
}: {
  viewer: Viewer;
  versionId: string;
  ownerProjectId: string;
}): Promise<VersionUsage> {
  const result = await db().execute<{
    project_id: string;
    slug: string;
    name: string;
    clones: number;
    builds: number;
  }>(sql`
    with uses as (
      select project_id, 1 as clone, 0 as build from clones where source_version_id = ${versionId} and status = 'succeeded'
      union all
      select r.project_id, 0, 1 from builds b join recipes r on r.id = b.recipe_id where b.base_version_id = ${versionId}
    )
    select u.project_id, p.slug, p.name, sum(u.clone)::int as clones, sum(u.build)::int as builds
    from uses u join projects p on p.id = u.project_id group by u.project_id, p.slug, p.name order by p.name`);
  const seesNames = canInProject(viewer, ownerProjectId, "view");
  const byProject = result.rows.map((row) => {
    const named = seesNames || canInProject(viewer, row.project_id, "view");
    return {
      projectSlug: named ? row.slug : null,
      projectName: named ? row.name : null,
      clones: Number(row.clones),
      builds: Number(row.builds),
    };
  });
  return {
    clones: byProject.reduce((sum, row) => sum + row.clones, 0),
    builds: byProject.reduce((sum, row) => sum + row.builds, 0),
    byProject,
  };
}

/** Of these clone ids, the ones still running. */
export async function listRunningCloneIds({ ids }: { ids: string[] }): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db()
    .select({ id: clones.id })
    .from(clones)
    .where(and(inArray(clones.id, ids), eq(clones.status, "running")));
  return new Set(rows.map((row) => row.id));
}
