// Builds: queueing (with fingerprint reuse), cancelling, listing and the live log. Access is
// checked here: seeing a build needs a role in its recipe's project; building needs member or
// owner; cancelling needs to be the one who asked for it, a project owner, or an admin.
import { and, asc, desc, eq, gt, inArray, sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { stepSummary } from "@/lib/builds/progress";
import { env } from "@/lib/env";
import { notReusableStatuses } from "@/lib/governance/release";
import { growToProblem } from "@/lib/recipes/steps";
import { db } from "../client";
import {
  buildLogs,
  builds,
  imageVersions,
  images,
  recipeRevisions,
  recipes,
  users,
  type BuildStatus,
  type DiskFormat,
} from "../schema";
import { recordAudit } from "./audit";
import { buildFingerprint, resolveDocument, saveRecipe } from "./recipes";
import { refuseOverQuota } from "./storage-usage";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";
import {
  buildCapabilities,
  canCancelBuild,
  canInProject,
  projectScopedCondition,
  visibleVersionCondition,
} from "./access";
import { approvedVersionsSql, releaseStatusIn } from "./release-sql";

export interface ReusedBuild {
  buildId: string;
  number: number;
  versionId: string;
  version: string;
  imageSlug: string;
}

export type QueueResult = { queued: true; buildId: string; number: number } | { queued: false; reused: ReusedBuild };

/**
 * What a build holds in its output project's quota from the request until its output lands, when
 * the output's real size replaces it: the most the output can take that is known before it runs.
 * A grown disk may be filled up to its new size, so a build that grows holds that; a raw output is
 * its whole virtual size; the other formats store at least what the base stores (its own bytes and
 * those beneath it). What the steps add is known only at the end, and checked then.
 */
export function buildReservation({
  growToBytes,
  outputFormat,
  base,
}: {
  growToBytes: number | null;
  outputFormat: DiskFormat;
  base: { virtualSize: number; storedBytes: number };
}): number {
  const virtualSize = Math.max(growToBytes ?? 0, base.virtualSize);
  if (growToBytes !== null || outputFormat === "raw") return virtualSize;
  return base.storedBytes;
}

/**
 * Queues a build of a recipe revision (the latest when none is named). The base is resolved and
 * re-checked now, for this caller. If a finished build with the same fingerprint still has its
 * output, that output is offered instead unless `force` is set.
 */
export async function queueBuild({
  viewer,
  recipeId,
  revision,
  force = false,
  send,
}: {
  viewer: Viewer;
  recipeId: string;
  revision?: number;
  force?: boolean;
  /** Puts the job on the queue; returns the job id. */
  send: (buildId: string) => Promise<string>;
}): Promise<QueueResult> {
  if (!isUuid(recipeId))
    throw new HangarError("not_found", "That recipe doesn't exist or is in a project you are not a member of.");
  const [recipe] = await db()
    .select({ id: recipes.id, projectId: recipes.projectId, latestRevision: recipes.latestRevision })
    .from(recipes)
    .where(eq(recipes.id, recipeId));
  if (!recipe || !canInProject(viewer, recipe.projectId, "view"))
    throw new HangarError("not_found", "That recipe doesn't exist or is in a project you are not a member of.");
  if (!canInProject(viewer, recipe.projectId, "contribute"))
    throw new HangarError(
      "forbidden",
      "Only members and owners of the recipe's project can build it; you can view it.",
    );
  const [row] = await db()
    .select({
      id: recipeRevisions.id,
      revision: recipeRevisions.revision,
      document: recipeRevisions.document,
      growToBytes: recipeRevisions.growToBytes,
      outputFormat: recipeRevisions.outputFormat,
    })
    .from(recipeRevisions)
    .where(
      and(eq(recipeRevisions.recipeId, recipeId), eq(recipeRevisions.revision, revision ?? recipe.latestRevision)),
    );
  if (!row) throw new HangarError("not_found", `The recipe has no revision ${revision}.`);
  const document = row.document;
  const resolved = await resolveDocument({ viewer, document, projectId: recipe.projectId });
  const fingerprint = buildFingerprint({
    baseSha256: resolved.base.sha256,
    document,
    outputImageId: resolved.outputImageId,
  });

  if (!force) {
    const [existing] = await db()
      .select({
        buildId: builds.id,
        number: builds.number,
        versionId: imageVersions.id,
        version: imageVersions.version,
        imageSlug: images.slug,
      })
      .from(builds)
      .innerJoin(imageVersions, eq(imageVersions.id, builds.outputVersionId))
      .innerJoin(images, eq(images.id, imageVersions.imageId))
      .where(
        and(
          eq(builds.fingerprint, fingerprint),
          eq(builds.status, "succeeded"),
          sql`not ${releaseStatusIn(imageVersions.releaseStatus, notReusableStatuses)}`,
        ),
      )
      .orderBy(desc(builds.finishedAt))
      .limit(1);
    if (existing) return { queued: false, reused: existing };
  }

  // The bound may have been lowered since the revision was saved.
  const growProblem = document.output.growTo ? growToProblem(document.output.growTo, env().HANGAR_MAX_GROW_SIZE) : null;
  if (growProblem)
    throw new HangarError(
      "invalid",
      `This revision can't be built: ${growProblem} Save a revision that grows the disk less.`,
      { "output.growTo": [growProblem] },
    );
  const [stored] = await db()
    .select({
      storedBytes: sql<string>`${imageVersions.fileSize} + coalesce((select bv.file_size from image_versions bv where bv.id = ${imageVersions.backingVersionId}), 0)`,
    })
    .from(imageVersions)
    .where(eq(imageVersions.id, resolved.base.versionId));
  const reservedBytes = buildReservation({
    growToBytes: row.growToBytes,
    outputFormat: row.outputFormat,
    base: { virtualSize: resolved.base.virtualSize, storedBytes: Number(stored?.storedBytes ?? 0) },
  });

  const build = await db().transaction(async (tx) => {
    await refuseOverQuota(tx, { projectId: resolved.outputProjectId, needed: reservedBytes, what: "This build" });
    const [created] = await tx
      .insert(builds)
      .values({
        recipeId,
        revisionId: row.id,
        baseVersionId: resolved.base.versionId,
        fingerprint,
        requestedById: viewer.id,
        reservedBytes,
        steps: document.steps.map((step) => ({ label: stepSummary(step), status: "pending" as const })),
      })
      .returning({ id: builds.id, number: builds.number });
    // The catalog's "most used" order counts builds on any version of the base's image.
    await tx.execute(sql`update images set usage_count = usage_count + 1 where id = ${resolved.base.imageId}`);
    await recordAudit(
      {
        actorId: viewer.id,
        action: "build.queue",
        objectType: "build",
        objectId: created!.id,
        after: { recipeId, revision: row.revision, baseVersionId: resolved.base.versionId, fingerprint, reservedBytes },
      },
      tx,
    );
    return created!;
  });
  try {
    await send(build.id);
  } catch (error) {
    console.error("could not queue build", error);
    await finishBuild(build.id, {
      status: "failed",
      failureReason: "The build could not be put on the job queue; nothing ran. Try again in a moment.",
    });
    throw new HangarError(
      "conflict",
      "The build could not be put on the job queue; nothing ran. Try again in a moment.",
    );
  }
  return { queued: true, buildId: build.id, number: build.number };
}

/** Sets a terminal state unless the build already has one. Returns whether it changed. */
export async function finishBuild(
  buildId: string,
  values: { status: Exclude<BuildStatus, "queued" | "running" | "succeeded">; failureReason?: string | null },
): Promise<boolean> {
  const rows = await db()
    .update(builds)
    .set({
      status: values.status,
      failureReason: values.failureReason ?? null,
      finishedAt: sql`now()`,
      processGroup: null,
    })
    .where(and(eq(builds.id, buildId), inArray(builds.status, ["queued", "running"])))
    .returning({ id: builds.id });
  return rows.length > 0;
}

async function loadForChange(viewer: Viewer, buildId: string) {
  if (!isUuid(buildId)) return null;
  const [build] = await db()
    .select({
      id: builds.id,
      status: builds.status,
      requestedById: builds.requestedById,
      projectId: recipes.projectId,
      recipeId: builds.recipeId,
      revision: recipeRevisions.revision,
    })
    .from(builds)
    .innerJoin(recipes, eq(recipes.id, builds.recipeId))
    .innerJoin(recipeRevisions, eq(recipeRevisions.id, builds.revisionId))
    .where(eq(builds.id, buildId));
  if (!build || !canInProject(viewer, build.projectId, "view")) return null;
  return build;
}

/** A queued build is cancelled at once; a running one is stopped by its worker within seconds. */
export async function cancelBuild({
  viewer,
  buildId,
}: {
  viewer: Viewer;
  buildId: string;
}): Promise<{ status: BuildStatus }> {
  const build = await loadForChange(viewer, buildId);
  if (!build)
    throw new HangarError("not_found", "That build doesn't exist or is in a project you are not a member of.");
  if (!canCancelBuild(viewer, build)) {
    throw new HangarError(
      "forbidden",
      "Only the person who started this build, an owner of its project or an admin can cancel it.",
    );
  }
  return db().transaction(async (tx) => {
    const [queued] = await tx
      .update(builds)
      .set({
        status: "cancelled",
        cancelRequestedAt: sql`now()`,
        finishedAt: sql`now()`,
        failureReason: "Cancelled before it started.",
      })
      .where(and(eq(builds.id, buildId), eq(builds.status, "queued")))
      .returning({ id: builds.id });
    if (!queued) {
      const [running] = await tx
        .update(builds)
        .set({ cancelRequestedAt: sql`coalesce(${builds.cancelRequestedAt}, now())` })
        .where(and(eq(builds.id, buildId), eq(builds.status, "running")))
        .returning({ id: builds.id });
      if (!running) throw new HangarError("conflict", "This build has already finished; there is nothing to cancel.");
    }
    await recordAudit(
      {
        actorId: viewer.id,
        action: "build.cancel",
        objectType: "build",
        objectId: buildId,
        before: { status: build.status },
      },
      tx,
    );
    return { status: queued ? ("cancelled" as const) : ("running" as const) };
  });
}

/** Retry is a new build of the same revision (never a reuse: the person asked to build again). */
export async function retryBuild({
  viewer,
  buildId,
  send,
}: {
  viewer: Viewer;
  buildId: string;
  send: (buildId: string) => Promise<string>;
}): Promise<QueueResult> {
  const build = await loadForChange(viewer, buildId);
  if (!build)
    throw new HangarError("not_found", "That build doesn't exist or is in a project you are not a member of.");
  if (build.status === "queued" || build.status === "running")
    throw new HangarError("conflict", "This build is still going; wait for it to finish or cancel it first.");
  return queueBuild({ viewer, recipeId: build.recipeId, revision: build.revision, force: true, send });
}

export interface BuildRow {
  id: string;
  number: number;
  status: BuildStatus;
  recipeId: string;
  recipeName: string;
  revision: number;
  baseImage: string;
  baseVersion: string;
  requestedBy: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  outputImage: string | null;
  outputVersion: string | null;
  outputVersionId: string | null;
  /** The image the build's revision writes into (known from the start, unlike its version). */
  targetImage: string;
}

function buildVisibleCondition(viewer: Viewer): SQL {
  return projectScopedCondition(viewer, recipes.projectId);
}

function buildSelection() {
  return {
    id: builds.id,
    number: builds.number,
    status: builds.status,
    recipeId: builds.recipeId,
    recipeName: recipes.name,
    revision: recipeRevisions.revision,
    baseImage: sql<string>`(select i.slug from image_versions v join images i on i.id = v.image_id where v.id = ${builds.baseVersionId})`,
    baseVersion: sql<string>`(select v.version from image_versions v where v.id = ${builds.baseVersionId})`,
    requestedBy: users.email,
    queuedAt: builds.queuedAt,
    startedAt: builds.startedAt,
    finishedAt: builds.finishedAt,
    outputImage: sql<
      string | null
    >`(select i.slug from image_versions v join images i on i.id = v.image_id where v.id = ${builds.outputVersionId})`,
    outputVersion: sql<string | null>`(select v.version from image_versions v where v.id = ${builds.outputVersionId})`,
    outputVersionId: builds.outputVersionId,
    targetImage: sql<string>`(select i.slug from images i where i.id = ${recipeRevisions.outputImageId})`,
  };
}

export async function listBuilds({
  viewer,
  recipeId,
  projectId,
  limit = 100,
}: {
  viewer: Viewer;
  recipeId?: string;
  projectId?: string;
  limit?: number;
}): Promise<BuildRow[]> {
  return db()
    .select(buildSelection())
    .from(builds)
    .innerJoin(recipes, eq(recipes.id, builds.recipeId))
    .innerJoin(recipeRevisions, eq(recipeRevisions.id, builds.revisionId))
    .leftJoin(users, eq(users.id, builds.requestedById))
    .where(
      and(
        buildVisibleCondition(viewer),
        recipeId && isUuid(recipeId) ? eq(builds.recipeId, recipeId) : undefined,
        projectId && isUuid(projectId) ? eq(recipes.projectId, projectId) : undefined,
      ),
    )
    .orderBy(desc(builds.number))
    .limit(limit);
}

export interface BuildDetail extends BuildRow {
  steps: { label: string; status: "pending" | "running" | "done" | "failed" }[];
  failureReason: string | null;
  /** Set when a worker claims the build: how it runs guests and why, and the limit it enforces. */
  acceleration: "kvm" | "tcg" | null;
  accelerationReason: string | null;
  timeLimitSeconds: number | null;
  cancelRequested: boolean;
  fingerprint: string;
  /** What the viewer may do with it now (access.ts). */
  can: { cancel: boolean; retry: boolean };
}

export async function getBuild({ viewer, id }: { viewer: Viewer; id: string }): Promise<BuildDetail | null> {
  if (!isUuid(id)) return null;
  const [row] = await db()
    .select({
      ...buildSelection(),
      steps: builds.steps,
      failureReason: builds.failureReason,
      acceleration: builds.acceleration,
      accelerationReason: builds.accelerationReason,
      timeLimitSeconds: builds.timeLimitSeconds,
      cancelRequestedAt: builds.cancelRequestedAt,
      fingerprint: builds.fingerprint,
      requestedById: builds.requestedById,
      projectId: recipes.projectId,
    })
    .from(builds)
    .innerJoin(recipes, eq(recipes.id, builds.recipeId))
    .innerJoin(recipeRevisions, eq(recipeRevisions.id, builds.revisionId))
    .leftJoin(users, eq(users.id, builds.requestedById))
    .where(and(eq(builds.id, id), buildVisibleCondition(viewer)));
  if (!row) return null;
  const { cancelRequestedAt, requestedById, projectId, ...rest } = row;
  return {
    ...rest,
    cancelRequested: cancelRequestedAt !== null,
    can: buildCapabilities(viewer, { projectId, requestedById, status: row.status }),
  };
}

export interface LogLine {
  id: number;
  at: Date;
  stream: string;
  line: string;
}

export async function getBuildLogs({
  buildId,
  afterId = 0,
  limit = 2000,
}: {
  buildId: string;
  afterId?: number;
  limit?: number;
}): Promise<LogLine[]> {
  return db()
    .select({ id: buildLogs.id, at: buildLogs.at, stream: buildLogs.stream, line: buildLogs.line })
    .from(buildLogs)
    .where(and(eq(buildLogs.buildId, buildId), gt(buildLogs.id, afterId)))
    .orderBy(asc(buildLogs.id))
    .limit(limit);
}

/** Base lookups for the worker, which acts for the person who queued the build. */
export async function loadBuildForRun(buildId: string) {
  const [row] = await db()
    .select({
      id: builds.id,
      number: builds.number,
      status: builds.status,
      attempt: builds.attempt,
      requestedById: builds.requestedById,
      recipeId: builds.recipeId,
      revisionId: builds.revisionId,
      document: recipeRevisions.document,
      outputImageId: recipeRevisions.outputImageId,
      outputFormat: recipeRevisions.outputFormat,
      growToBytes: recipeRevisions.growToBytes,
      outputProjectId: images.projectId,
      reservedBytes: builds.reservedBytes,
      baseVersionId: builds.baseVersionId,
      baseSha256: imageVersions.sha256,
      baseFormat: imageVersions.format,
      baseVirtualSize: imageVersions.virtualSize,
      baseReleaseStatus: imageVersions.releaseStatus,
    })
    .from(builds)
    .innerJoin(recipeRevisions, eq(recipeRevisions.id, builds.revisionId))
    .innerJoin(imageVersions, eq(imageVersions.id, builds.baseVersionId))
    .innerJoin(images, eq(images.id, recipeRevisions.outputImageId))
    .where(eq(builds.id, buildId));
  return row ?? null;
}

/**
 * "Rebuild on the new base": the recipe that produced `versionId`, on the newest approved version
 * of its base's image. A recipe following a channel is simply built again; a pinned one gets a new
 * revision pointing at the new base first. The output goes through review like any build.
 */
export async function rebuildOnNewestBase({
  viewer,
  versionId,
  send,
}: {
  viewer: Viewer;
  versionId: string;
  send: (buildId: string) => Promise<string>;
}): Promise<QueueResult> {
  if (!isUuid(versionId)) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  const [row] = await db()
    .select({
      recipeId: recipeRevisions.recipeId,
      document: recipeRevisions.document,
      baseImageId: recipeRevisions.baseImageId,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .leftJoin(recipeRevisions, eq(recipeRevisions.id, imageVersions.recipeRevisionId))
    .where(and(eq(imageVersions.id, versionId), visibleVersionCondition(viewer)));
  if (!row) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  if (!row.recipeId || !row.baseImageId || !row.document)
    throw new HangarError(
      "invalid",
      "This version was not built from a recipe, so there is nothing to rebuild; upload or clone a new one instead.",
    );
  const document = row.document;
  if (document.base.channel) return queueBuild({ viewer, recipeId: row.recipeId, send });
  const {
    rows: [newest],
  } = await db().execute<{ version: string }>(approvedVersionsSql(row.baseImageId));
  if (!newest) throw new HangarError("conflict", "The base image has no approved version to rebuild on.");
  const saved = await saveRecipe({
    viewer,
    recipeId: row.recipeId,
    document: { ...document, base: { image: document.base.image, version: newest.version } },
  });
  return queueBuild({ viewer, recipeId: row.recipeId, revision: saved.revision, send });
}
