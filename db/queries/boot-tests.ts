// Boot tests: who may ask for one and see it, the row a worker claims, heartbeats (where a cancel
// request is seen), console batches, the verdict, the stale-worker sweep, an image's boot settings
// and the approval gate's data. Only the worker that claimed a test, while it still runs, writes
// its verdict.
import { and, asc, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { LOGIN_PROMPT_PATTERN } from "@/lib/content/boot-console";
import { blockedStatuses, statusWords, type BootGate } from "@/lib/governance/release";
import { db } from "../client";
import type { BootTestResult, ContentJobStatus } from "../enums";
import { bootTestLogs, bootTests, imageVersions, images } from "../schema";
import { canInProject, isAdmin, requireOnImage, visibleImagesCondition, visibleVersionCondition } from "./access";
import { recordAudit } from "./audit";
import type { Viewer } from "./users";

export type BootTrigger = "manual" | "build" | "upload";

/** A version as a boot-test request sees it; null when the viewer can't see it. */
async function loadVersion(viewer: Viewer, versionId: string) {
  if (!isUuid(versionId)) return null;
  const [row] = await db()
    .select({
      id: imageVersions.id,
      version: imageVersions.version,
      dataStatus: imageVersions.dataStatus,
      releaseStatus: imageVersions.releaseStatus,
      projectId: images.projectId,
      imageId: images.id,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(imageVersions.id, versionId), visibleVersionCondition(viewer)));
  return row ?? null;
}

/**
 * Throws unless the viewer may boot-test the version: it is seen, they may use its bytes in its
 * project (members who contribute, admins), it is not disabled or revoked (admins excepted) and its
 * bytes are ready.
 */
async function requireTestable(viewer: Viewer, versionId: string) {
  const version = await loadVersion(viewer, versionId);
  if (!version)
    throw new HangarError("not_found", "That version doesn't exist or you can't see it. Nothing was changed.");
  if (!canInProject(viewer, version.projectId, "contribute"))
    throw new HangarError(
      "forbidden",
      "Only members (not viewers) of the image's project and admins can test a version's boot. Nothing was changed.",
    );
  if (blockedStatuses.includes(version.releaseStatus) && !isAdmin(viewer))
    throw new HangarError(
      "forbidden",
      `This version is ${statusWords[version.releaseStatus]}: nobody but an admin may use it, boot tests included. Nothing was changed.`,
    );
  if (version.dataStatus !== "ready")
    throw new HangarError(
      "conflict",
      "This version has no stored file yet (or its import failed); only ready versions can be boot-tested.",
    );
  return version;
}

export interface QueuedBootTest {
  bootTestId: string;
  /** False when a test of the version was already queued or running: that one is the answer. */
  created: boolean;
}

/**
 * Records a queued boot test of a ready version (what counts as success and the time allowed are
 * fixed now), unless one is already waiting or running. The caller enqueues the job when created.
 */
export async function createBootTest({
  versionId,
  trigger,
  requestedById,
  timeoutSeconds,
}: {
  versionId: string;
  trigger: BootTrigger;
  requestedById: string | null;
  timeoutSeconds: number;
}): Promise<QueuedBootTest> {
  return db().transaction(async (tx) => {
    // One request at a time per version: the version's row is the lock.
    const [version] = await tx
      .select({ id: imageVersions.id, dataStatus: imageVersions.dataStatus, marker: images.bootSuccessMarker })
      .from(imageVersions)
      .innerJoin(images, eq(images.id, imageVersions.imageId))
      .where(eq(imageVersions.id, versionId))
      .for("update", { of: imageVersions });
    if (!version || version.dataStatus !== "ready")
      throw new HangarError("conflict", "Only ready versions can be boot-tested.");
    const [active] = await tx
      .select({ id: bootTests.id })
      .from(bootTests)
      .where(and(eq(bootTests.versionId, versionId), inArray(bootTests.status, ["queued", "running"])))
      .limit(1);
    if (active) return { bootTestId: active.id, created: false };
    const [row] = await tx
      .insert(bootTests)
      .values({
        versionId,
        successPattern: version.marker?.trim() || LOGIN_PROMPT_PATTERN,
        timeoutSeconds,
        trigger,
        requestedById,
      })
      .returning({ id: bootTests.id });
    await recordAudit(
      {
        actorId: requestedById,
        action: "boot-test.request",
        objectType: "version",
        objectId: versionId,
        after: { bootTestId: row!.id, trigger },
      },
      tx,
    );
    return { bootTestId: row!.id, created: true };
  });
}

/** A person's request: checked through access.ts, then recorded as createBootTest does. */
export async function requestBootTest({
  viewer,
  versionId,
  timeoutSeconds,
}: {
  viewer: Viewer;
  versionId: string;
  timeoutSeconds: number;
}): Promise<QueuedBootTest> {
  await requireTestable(viewer, versionId);
  return createBootTest({ versionId, trigger: "manual", requestedById: viewer.id, timeoutSeconds });
}

/** Cancels a queued test at once, or asks a running one's worker to stop (it sees it at its next heartbeat). */
export async function cancelBootTest({
  viewer,
  bootTestId,
}: {
  viewer: Viewer;
  bootTestId: string;
}): Promise<{ status: ContentJobStatus }> {
  const test = await getBootTest({ viewer, bootTestId });
  if (!test)
    throw new HangarError("not_found", "That boot test doesn't exist or you can't see it. Nothing was changed.");
  if (!canInProject(viewer, test.projectId, "contribute"))
    throw new HangarError(
      "forbidden",
      "Only members (not viewers) of the image's project and admins can cancel a boot test. Nothing was changed.",
    );
  const outcome = await db().transaction(async (tx) => {
    const [queued] = await tx
      .update(bootTests)
      .set({
        status: "cancelled",
        cancelRequestedAt: sql`now()`,
        finishedAt: sql`now()`,
        failureReason: "Cancelled before it started.",
      })
      .where(and(eq(bootTests.id, test.id), eq(bootTests.status, "queued")))
      .returning({ status: bootTests.status });
    const [running] = queued
      ? []
      : await tx
          .update(bootTests)
          .set({ cancelRequestedAt: sql`coalesce(${bootTests.cancelRequestedAt}, now())` })
          .where(and(eq(bootTests.id, test.id), eq(bootTests.status, "running")))
          .returning({ status: bootTests.status });
    const status = queued?.status ?? running?.status;
    if (!status) return null;
    await recordAudit(
      { actorId: viewer.id, action: "boot-test.cancel", objectType: "boot_test", objectId: test.id, after: { status } },
      tx,
    );
    return { status };
  });
  if (outcome) return outcome;
  throw new HangarError("conflict", `This boot test has already ended (${test.status}); there is nothing to cancel.`);
}

export interface BootTestRun {
  id: string;
  versionId: string;
  sha256: string | null;
  format: string | null;
  arch: string;
  successPattern: string;
  timeoutSeconds: number;
}

/** Takes a queued boot test for this worker, with what it boots; null when it was cancelled or taken. */
export async function claimBootTest(
  bootTestId: string,
  claim: { acceleration: "kvm" | "tcg"; workerHost: string; workerPid: number },
): Promise<BootTestRun | null> {
  const [claimed] = await db()
    .update(bootTests)
    .set({ status: "running", startedAt: sql`now()`, heartbeatAt: sql`now()`, ...claim })
    .where(and(eq(bootTests.id, bootTestId), eq(bootTests.status, "queued"), isNull(bootTests.cancelRequestedAt)))
    .returning({ id: bootTests.id });
  if (!claimed) return null;
  const [row] = await db()
    .select({
      id: bootTests.id,
      versionId: bootTests.versionId,
      sha256: imageVersions.sha256,
      format: imageVersions.format,
      arch: images.arch,
      successPattern: bootTests.successPattern,
      timeoutSeconds: bootTests.timeoutSeconds,
    })
    .from(bootTests)
    .innerJoin(imageVersions, eq(imageVersions.id, bootTests.versionId))
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(eq(bootTests.id, bootTestId));
  return row ?? null;
}

/** A running test's worker says it is alive; false when it should stop (cancel requested, or no longer running). */
export async function heartbeatBootTest(bootTestId: string): Promise<boolean> {
  const [row] = await db()
    .update(bootTests)
    .set({ heartbeatAt: sql`now()` })
    .where(and(eq(bootTests.id, bootTestId), eq(bootTests.status, "running")))
    .returning({ cancelRequestedAt: bootTests.cancelRequestedAt });
  return row !== undefined && row.cancelRequestedAt === null;
}

export async function setBootTestProcessGroup(bootTestId: string, processGroup: number): Promise<void> {
  await db().update(bootTests).set({ processGroup }).where(eq(bootTests.id, bootTestId));
}

/** Stores a batch of console lines and counts their bytes (the cap is the writer's business). */
export async function appendBootTestLogs(bootTestId: string, lines: string[], bytes: number): Promise<void> {
  if (lines.length === 0) return;
  await db().transaction(async (tx) => {
    await tx.insert(bootTestLogs).values(lines.map((line) => ({ bootTestId, line })));
    await tx
      .update(bootTests)
      .set({ consoleBytes: sql`${bootTests.consoleBytes} + ${bytes}` })
      .where(eq(bootTests.id, bootTestId));
  });
}

export interface BootVerdict {
  status: Exclude<ContentJobStatus, "queued" | "running">;
  result: BootTestResult | null;
  failureReason: string | null;
  durationMs: number | null;
}

/** Ends a running test with its verdict; false when it was no longer running (swept meanwhile). */
export async function finishBootTest(bootTestId: string, verdict: BootVerdict): Promise<boolean> {
  const [row] = await db()
    .update(bootTests)
    .set({ ...verdict, finishedAt: sql`now()`, processGroup: null })
    .where(and(eq(bootTests.id, bootTestId), eq(bootTests.status, "running")))
    .returning({ id: bootTests.id });
  return row !== undefined;
}

export const STALE_BOOT_TEST_REASON =
  "The worker running this boot test stopped without finishing it (its process or machine died). Test the boot again.";

/** Ends boot tests whose worker stopped sending heartbeats; returns where each ran, so its leftovers can go. */
export async function sweepStaleBootTestRuns({
  staleSeconds,
}: {
  staleSeconds: number;
}): Promise<{ id: string; workerHost: string | null; processGroup: number | null }[]> {
  return db()
    .update(bootTests)
    .set({ status: "failed", failureReason: STALE_BOOT_TEST_REASON, finishedAt: sql`now()` })
    .where(
      and(
        eq(bootTests.status, "running"),
        sql`${bootTests.heartbeatAt} < now() - make_interval(secs => ${staleSeconds})`,
      ),
    )
    .returning({ id: bootTests.id, workerHost: bootTests.workerHost, processGroup: bootTests.processGroup });
}

const bootTestColumns = {
  id: bootTests.id,
  versionId: bootTests.versionId,
  status: bootTests.status,
  result: bootTests.result,
  failureReason: bootTests.failureReason,
  successPattern: bootTests.successPattern,
  timeoutSeconds: bootTests.timeoutSeconds,
  acceleration: bootTests.acceleration,
  durationMs: bootTests.durationMs,
  consoleBytes: bootTests.consoleBytes,
  trigger: bootTests.trigger,
  cancelRequested: sql<boolean>`${bootTests.cancelRequestedAt} is not null`,
  queuedAt: bootTests.queuedAt,
  startedAt: bootTests.startedAt,
  finishedAt: bootTests.finishedAt,
};

/** A boot test the viewer may see (they see its version), or null. */
export async function getBootTest({ viewer, bootTestId }: { viewer: Viewer; bootTestId: string }) {
  if (!isUuid(bootTestId)) return null;
  const [row] = await db()
    .select({ ...bootTestColumns, projectId: images.projectId })
    .from(bootTests)
    .innerJoin(imageVersions, eq(imageVersions.id, bootTests.versionId))
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(bootTests.id, bootTestId), visibleVersionCondition(viewer)));
  return row ?? null;
}

/** The newest boot test of a version the viewer sees, or null (none yet, or the version is hidden). */
export async function getLatestBootTest({ viewer, versionId }: { viewer: Viewer; versionId: string }) {
  if (!isUuid(versionId)) return null;
  const [row] = await db()
    .select({ ...bootTestColumns, projectId: images.projectId })
    .from(bootTests)
    .innerJoin(imageVersions, eq(imageVersions.id, bootTests.versionId))
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(bootTests.versionId, versionId), visibleVersionCondition(viewer)))
    .orderBy(desc(bootTests.queuedAt), desc(bootTests.id))
    .limit(1);
  return row ?? null;
}

export type BootTestDetail = NonNullable<Awaited<ReturnType<typeof getBootTest>>>;

/** Console lines after `afterId`, oldest first. Visibility is the caller's check (getBootTest). */
export async function getBootTestLogs({
  bootTestId,
  afterId = 0,
  limit = 2000,
}: {
  bootTestId: string;
  afterId?: number;
  limit?: number;
}): Promise<{ id: number; at: Date; line: string }[]> {
  return db()
    .select({ id: bootTestLogs.id, at: bootTestLogs.at, line: bootTestLogs.line })
    .from(bootTestLogs)
    .where(and(eq(bootTestLogs.bootTestId, bootTestId), gt(bootTestLogs.id, afterId)))
    .orderBy(asc(bootTestLogs.id))
    .limit(limit);
}

/** What the approval gate needs about a version: whether its image requires a boot test and the latest one. */
export async function getBootGate({ versionId }: { versionId: string }): Promise<BootGate> {
  const [row] = await db()
    .select({
      required: images.bootTestRequired,
      status: sql<ContentJobStatus | null>`latest.status`,
      result: sql<BootTestResult | null>`latest.result`,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .leftJoin(
      sql`lateral (select b.status, b.result from boot_tests b where b.version_id = ${imageVersions.id} order by b.queued_at desc, b.id desc limit 1) latest`,
      sql`true`,
    )
    .where(eq(imageVersions.id, versionId));
  if (!row) return { required: false, latest: null };
  return { required: row.required, latest: row.status ? { status: row.status, result: row.result } : null };
}

/** An image's boot settings, for its page (the viewer must see the image). */
export async function getBootSettings({ viewer, imageId }: { viewer: Viewer; imageId: string }) {
  if (!isUuid(imageId)) return null;
  const [row] = await db()
    .select({ required: images.bootTestRequired, marker: images.bootSuccessMarker })
    .from(images)
    .where(and(eq(images.id, imageId), visibleImagesCondition(viewer, "images")));
  return row ?? null;
}

/** Owners of the image's project and admins: require a passing boot test before approval, and the success marker. */
export async function updateBootSettings({
  viewer,
  imageId,
  required,
  marker,
}: {
  viewer: Viewer;
  imageId: string;
  required: boolean;
  marker: string | null;
}): Promise<{ required: boolean; marker: string | null }> {
  const [image] = isUuid(imageId)
    ? await db()
        .select({
          projectId: images.projectId,
          visible: sql<boolean>`${visibleImagesCondition(viewer, "images")}`,
          required: images.bootTestRequired,
          marker: images.bootSuccessMarker,
        })
        .from(images)
        .where(eq(images.id, imageId))
    : [];
  requireOnImage(viewer, image ?? null, "manage", "change an image's boot test settings");
  await db().transaction(async (tx) => {
    await tx
      .update(images)
      .set({ bootTestRequired: required, bootSuccessMarker: marker, updatedAt: sql`now()` })
      .where(eq(images.id, imageId));
    await recordAudit(
      {
        actorId: viewer.id,
        action: "image.boot-settings",
        objectType: "image",
        objectId: imageId,
        before: { required: image!.required, marker: image!.marker },
        after: { required, marker },
      },
      tx,
    );
  });
  return { required, marker };
}
