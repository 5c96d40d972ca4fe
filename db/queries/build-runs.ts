// A build as its worker runs it (lib/builds/engine.ts): claim, heartbeat (where a cancel request is
// seen), step progress, log batches, the finishing transaction, and the sweep that ends builds
// whose worker died. Only the attempt that claimed a build, still running and not cancelled, may
// finish it, so a build never produces two outputs.
import type { StoredInspection } from "@/lib/images/inspector/types";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db } from "../client";
import { buildLogs, builds, images, type DiskFormat } from "../schema";
import { recordAudit } from "./audit";
import type { loadBuildForRun } from "./builds";
import { createReadyVersion } from "./images";
import { refuseOverQuota } from "./storage-usage";

export interface BuildClaim {
  acceleration: "kvm" | "tcg";
  accelerationReason: string;
  timeLimitSeconds: number | null;
  workerHost: string;
  workerPid: number;
}

/** Takes a queued build for this worker; null when it was cancelled or already taken. */
export async function claimBuild(buildId: string, claim: BuildClaim): Promise<{ attempt: number } | null> {
  const [claimed] = await db()
    .update(builds)
    .set({
      status: "running",
      attempt: sql`${builds.attempt} + 1`,
      startedAt: sql`now()`,
      heartbeatAt: sql`now()`,
      ...claim,
    })
    .where(and(eq(builds.id, buildId), eq(builds.status, "queued")))
    .returning({ attempt: builds.attempt });
  return claimed ?? null;
}

/** A running build's worker says it is alive; false when the build should stop (cancel requested, or no longer running). */
export async function heartbeatBuild(buildId: string): Promise<boolean> {
  const [row] = await db()
    .update(builds)
    .set({ heartbeatAt: sql`now()` })
    .where(and(eq(builds.id, buildId), eq(builds.status, "running")))
    .returning({ cancelRequestedAt: builds.cancelRequestedAt });
  return row !== undefined && row.cancelRequestedAt === null;
}

export type BuildSteps = (typeof builds.$inferSelect)["steps"];

export async function saveBuildSteps(buildId: string, steps: BuildSteps): Promise<void> {
  await db().update(builds).set({ steps }).where(eq(builds.id, buildId));
}

/** The process group running the build's tools, so a sweep can kill it if the worker dies. */
export async function setBuildProcessGroup(buildId: string, processGroup: number): Promise<void> {
  await db().update(builds).set({ processGroup }).where(eq(builds.id, buildId));
}

export async function appendBuildLogs(buildId: string, lines: { stream: string; line: string }[]): Promise<void> {
  if (lines.length === 0) return;
  await db()
    .insert(buildLogs)
    .values(lines.map((entry) => ({ buildId, ...entry })));
}

export interface BuiltOutput {
  format: DiskFormat;
  virtualSize: number;
  size: number;
  sha256: string;
  sha512: string | null;
  inspection: StoredInspection;
}

/** A build as loadBuildForRun reads it for its worker. */
export type BuildRun = NonNullable<Awaited<ReturnType<typeof loadBuildForRun>>>;

export type BuildCompletion =
  | { status: "succeeded"; versionId: string; imageSlug: string | null; scanRequested: boolean }
  | { status: "refused"; reason: string }
  | { status: "cancelled" };

class Outcome extends Error {
  constructor(readonly completion: Exclude<BuildCompletion, { status: "succeeded" }>) {
    super(completion.status);
  }
}

/**
 * Lands a build's output, whose bytes are already in the blob store, in one transaction: the quota
 * checked again with the real size under the project's lock (the reservation it replaces is
 * released as the build stops running), the version waiting for review, the build succeeded.
 * Nothing lands when the quota refuses it or the claimed attempt was cancelled or superseded.
 */
export async function completeBuild({
  build,
  attempt,
  output,
}: {
  build: BuildRun;
  attempt: number;
  output: BuiltOutput;
}): Promise<BuildCompletion> {
  try {
    return await db().transaction(async (tx) => {
      await refuseOverQuota(tx, {
        projectId: build.outputProjectId,
        needed: output.size,
        held: build.reservedBytes,
        what: "This build's output",
      }).catch((error: unknown) => {
        throw error instanceof HangarError ? new Outcome({ status: "refused", reason: error.message }) : error;
      });
      const created = await createReadyVersion({
        tx,
        actorId: build.requestedById,
        values: {
          imageId: build.outputImageId,
          version: `build-${build.number}`,
          format: output.format,
          virtualSize: output.virtualSize,
          fileSize: output.size,
          sha256: output.sha256,
          sha512: output.sha512,
          releaseStatus: "pending_review",
          source: "build",
          parentVersionId: build.baseVersionId,
          recipeRevisionId: build.revisionId,
          buildId: build.id,
          inspection: output.inspection,
        },
      });
      const [finished] = await tx
        .update(builds)
        .set({ status: "succeeded", outputVersionId: created.id, finishedAt: sql`now()`, processGroup: null })
        .where(
          and(
            eq(builds.id, build.id),
            eq(builds.status, "running"),
            eq(builds.attempt, attempt),
            isNull(builds.cancelRequestedAt),
          ),
        )
        .returning({ id: builds.id });
      if (!finished) throw new Outcome({ status: "cancelled" });
      await recordAudit(
        {
          actorId: build.requestedById,
          action: "build.succeed",
          objectType: "build",
          objectId: build.id,
          after: { versionId: created.id },
        },
        tx,
      );
      const [image] = await tx.select({ slug: images.slug }).from(images).where(eq(images.id, build.outputImageId));
      return {
        status: "succeeded",
        versionId: created.id,
        imageSlug: image?.slug ?? null,
        scanRequested: created.scanRequested,
      };
    });
  } catch (error) {
    if (error instanceof Outcome) return error.completion;
    throw error;
  }
}

export const STALE_BUILD_REASON =
  "The worker running this build stopped without finishing it (its process or machine died). Nothing was kept; retry the build.";

/** Ends builds whose worker stopped sending heartbeats; returns where each ran, so its leftovers can go. */
export async function sweepStaleBuildRuns({
  staleSeconds,
}: {
  staleSeconds: number;
}): Promise<{ id: string; workerHost: string | null; processGroup: number | null }[]> {
  return db()
    .update(builds)
    .set({ status: "failed", failureReason: STALE_BUILD_REASON, finishedAt: sql`now()` })
    .where(
      and(eq(builds.status, "running"), sql`${builds.heartbeatAt} < now() - make_interval(secs => ${staleSeconds})`),
    )
    .returning({ id: builds.id, workerHost: builds.workerHost, processGroup: builds.processGroup });
}

/**
 * The queue's jobs still marked running for these builds (their worker died with them): pg-boss
 * would hold each until its expiry, hours away, so the sweep fails them as it fails the builds.
 */
export async function listActiveBuildJobIds({ buildIds }: { buildIds: string[] }): Promise<string[]> {
  if (buildIds.length === 0) return [];
  const result = await db().execute<{ id: string }>(sql`
    select j.id from pgboss.job j
    where j.name = 'image.build' and j.state = 'active'
      and j.data->>'buildId' in (${sql.join(
        buildIds.map((id) => sql`${id}`),
        sql`, `,
      )})`);
  return result.rows.map((row) => row.id);
}

/** Of these build ids, the ones still running. */
export async function listRunningBuildIds({ ids }: { ids: string[] }): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db()
    .select({ id: builds.id })
    .from(builds)
    .where(and(inArray(builds.id, ids), eq(builds.status, "running")));
  return new Set(rows.map((row) => row.id));
}
