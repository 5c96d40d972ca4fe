// File-level diffs of two versions (lib/content/file-diff.ts runs them): the request (both
// versions visible to the caller and ready; a pair already compared returns that comparison),
// claim, heartbeat (where a cancel request is seen), completion, failure, cancel, the reads for
// the diff page and its polling route, and the sweep that ends diffs whose worker died. A version
// the caller can't see is refused exactly like one that doesn't exist.
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { FileDiff } from "@/lib/content/types";
import { HangarError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { db } from "../client";
import { imageVersions, versionDiffs, type ContentJobStatus, type DiskFormat } from "../schema";
import { canCancelFileDiff, visibleVersionCondition } from "./access";
import type { Viewer } from "./users";

const NOT_FOUND = "That version doesn't exist or you can't see it. Nothing was compared.";

interface DiffSide {
  id: string;
  label: string;
  ready: boolean;
  dataStatus: string;
  sha256: string | null;
}

/** Both versions as the viewer sees them; not_found (the same words for either) unless both are visible. */
async function loadVisiblePair(
  viewer: Viewer,
  fromVersionId: string,
  toVersionId: string,
): Promise<[DiffSide, DiffSide]> {
  if (!isUuid(fromVersionId) || !isUuid(toVersionId)) throw new HangarError("not_found", NOT_FOUND);
  const result = await db().execute<Record<string, unknown>>(sql`
    select v.id, i.slug, v.version, v.data_status, v.sha256, v.format
    from image_versions v join images i on i.id = v.image_id
    where v.id in (${fromVersionId}, ${toVersionId}) and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}`);
  const side = (id: string): DiffSide => {
    const row = result.rows.find((candidate) => candidate.id === id);
    if (!row) throw new HangarError("not_found", NOT_FOUND);
    return {
      id,
      label: `${String(row.slug)} ${String(row.version)}`,
      ready: row.data_status === "ready" && row.sha256 !== null && row.format !== null,
      dataStatus: String(row.data_status),
      sha256: row.sha256 === null ? null : String(row.sha256),
    };
  };
  return [side(fromVersionId), side(toVersionId)];
}

const notReadyWords: Record<string, string> = {
  queued: "is still waiting for its file",
  uploading: "is still being uploaded",
  importing: "is still being imported",
  failed: "has no file (its upload or import failed)",
};

export interface FileDiffRequest {
  diffId: string;
  status: ContentJobStatus;
  /** True when a job must be queued for it; false when an existing comparison (or an instant one) answers. */
  queue: boolean;
}

/**
 * Asks for the file diff of two versions. Refused (nothing written) for a version with itself, a
 * version the viewer can't see or that doesn't exist, and one whose bytes aren't ready. A pair
 * already compared (queued, running or done) returns that comparison; only a failed or cancelled
 * one is asked again. Two versions with the same bytes need no job: their diff is empty.
 */
export async function requestFileDiff({
  viewer,
  fromVersionId,
  toVersionId,
}: {
  viewer: Viewer;
  fromVersionId: string;
  toVersionId: string;
}): Promise<FileDiffRequest> {
  if (fromVersionId === toVersionId)
    throw new HangarError("invalid", "A version compared with itself has no differences; pick two different versions.");
  const [from, to] = await loadVisiblePair(viewer, fromVersionId, toVersionId);
  for (const side of [from, to]) {
    if (!side.ready)
      throw new HangarError(
        "conflict",
        `${side.label} ${notReadyWords[side.dataStatus] ?? "is not ready"}; it can be compared once its file is ready. Nothing was compared.`,
      );
  }
  return db().transaction(async (tx) => {
    // One request at a time per pair, so two clicks can't queue two jobs.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`version-diff:${fromVersionId}:${toVersionId}`}))`);
    const [latest] = await tx
      .select({ id: versionDiffs.id, status: versionDiffs.status })
      .from(versionDiffs)
      .where(and(eq(versionDiffs.fromVersionId, fromVersionId), eq(versionDiffs.toVersionId, toVersionId)))
      .orderBy(desc(versionDiffs.queuedAt))
      .limit(1);
    if (latest && latest.status !== "failed" && latest.status !== "cancelled")
      return { diffId: latest.id, status: latest.status, queue: false };
    const sameBytes = from.sha256 === to.sha256;
    const [created] = await tx
      .insert(versionDiffs)
      .values({
        fromVersionId,
        toVersionId,
        requestedById: viewer.id,
        ...(sameBytes
          ? { status: "succeeded" as const, files: [], startedAt: sql`now()`, finishedAt: sql`now()` }
          : {}),
      })
      .returning({ id: versionDiffs.id, status: versionDiffs.status });
    return { diffId: created!.id, status: created!.status, queue: !sameBytes };
  });
}

export interface FileDiffWork {
  id: string;
  from: { versionId: string; sha256: string; format: DiskFormat };
  to: { versionId: string; sha256: string; format: DiskFormat };
}

export interface FileDiffClaim {
  workerHost: string;
  workerPid: number;
}

/** Takes a queued diff for this worker; null when it was cancelled, already taken, or its versions lost their bytes. */
export async function claimFileDiff(diffId: string, claim: FileDiffClaim): Promise<FileDiffWork | null> {
  const [row] = await db()
    .update(versionDiffs)
    .set({ status: "running", startedAt: sql`now()`, heartbeatAt: sql`now()`, ...claim })
    .where(and(eq(versionDiffs.id, diffId), eq(versionDiffs.status, "queued")))
    .returning({ fromVersionId: versionDiffs.fromVersionId, toVersionId: versionDiffs.toVersionId });
  if (!row) return null;
  const sides = await db()
    .select({ id: imageVersions.id, sha256: imageVersions.sha256, format: imageVersions.format })
    .from(imageVersions)
    .where(inArray(imageVersions.id, [row.fromVersionId, row.toVersionId]));
  const from = sides.find((side) => side.id === row.fromVersionId);
  const to = sides.find((side) => side.id === row.toVersionId);
  if (!from?.sha256 || !from.format || !to?.sha256 || !to.format) {
    await finishFileDiff(diffId, {
      status: "failed",
      failureReason: "One of the versions no longer has a stored file.",
    });
    return null;
  }
  return {
    id: diffId,
    from: { versionId: from.id, sha256: from.sha256, format: from.format },
    to: { versionId: to.id, sha256: to.sha256, format: to.format },
  };
}

/** The process group running the diff, so a sweep can kill it if the worker dies. */
export async function setFileDiffProcessGroup(diffId: string, processGroup: number): Promise<void> {
  await db().update(versionDiffs).set({ processGroup }).where(eq(versionDiffs.id, diffId));
}

/** A running diff's worker says it is alive; false when it should stop (cancel requested, or no longer running). */
export async function heartbeatFileDiff(diffId: string): Promise<boolean> {
  const [row] = await db()
    .update(versionDiffs)
    .set({ heartbeatAt: sql`now()` })
    .where(and(eq(versionDiffs.id, diffId), eq(versionDiffs.status, "running")))
    .returning({ cancelRequestedAt: versionDiffs.cancelRequestedAt });
  return row !== undefined && row.cancelRequestedAt === null;
}

/** Stores the result; false (nothing stored) when the diff was cancelled or is no longer running. */
export async function completeFileDiff(diffId: string, files: FileDiff[]): Promise<boolean> {
  const [row] = await db()
    .update(versionDiffs)
    .set({ status: "succeeded", files, finishedAt: sql`now()`, processGroup: null, failureReason: null })
    .where(and(eq(versionDiffs.id, diffId), eq(versionDiffs.status, "running"), isNull(versionDiffs.cancelRequestedAt)))
    .returning({ id: versionDiffs.id });
  return row !== undefined;
}

/** Ends a queued or running diff as failed or cancelled, with the reason a person reads. */
export async function finishFileDiff(
  diffId: string,
  { status, failureReason }: { status: "failed" | "cancelled"; failureReason: string },
): Promise<void> {
  await db()
    .update(versionDiffs)
    .set({ status, failureReason, finishedAt: sql`now()`, processGroup: null })
    .where(and(eq(versionDiffs.id, diffId), inArray(versionDiffs.status, ["queued", "running"])));
}

export const STALE_DIFF_REASON =
  "The worker comparing these versions stopped without finishing (its process or machine died). Compare them again.";

/** Ends diffs whose worker stopped sending heartbeats; returns where each ran, so its leftovers can go. */
export async function sweepStaleFileDiffs({
  staleSeconds,
}: {
  staleSeconds: number;
}): Promise<{ id: string; workerHost: string | null; processGroup: number | null }[]> {
  return db()
    .update(versionDiffs)
    .set({ status: "failed", failureReason: STALE_DIFF_REASON, finishedAt: sql`now()` })
    .where(
      and(
        eq(versionDiffs.status, "running"),
        sql`${versionDiffs.heartbeatAt} < now() - make_interval(secs => ${staleSeconds})`,
      ),
    )
    .returning({ id: versionDiffs.id, workerHost: versionDiffs.workerHost, processGroup: versionDiffs.processGroup });
}

/** A stored diff as pages and the polling route show it. */
export interface FileDiffView {
  id: string;
  fromVersionId: string;
  toVersionId: string;
  status: ContentJobStatus;
  failureReason: string | null;
  /** The differences, sorted by path (at most lib/content/file-diff.ts's FILE_DIFF_MAX_ENTRIES); null until it succeeded. */
  files: FileDiff[] | null;
  /** Differences beyond the cap that were not stored (the list is truncated when > 0). */
  omitted: number;
  /** What the comparison could not cover, in words (an image without an OS, a filesystem that didn't mount). */
  notes: string[];
  cancelRequested: boolean;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Whether the viewer may cancel it now (whoever asked for it, and admins, while it is queued or running). */
  canCancel: boolean;
}

/** Stored `files` hold the differences, then notes (type "note") about what was not covered or cut. */
export function splitStoredFiles(stored: FileDiff[] | null): Pick<FileDiffView, "files" | "omitted" | "notes"> {
  if (stored === null) return { files: null, omitted: 0, notes: [] };
  const files: FileDiff[] = [];
  const notes: string[] = [];
  let omitted = 0;
  for (const entry of stored) {
    if (entry.type === "note") {
      if (entry.note) notes.push(entry.note);
      omitted += entry.omitted ?? 0;
    } else files.push(entry);
  }
  return { files, omitted, notes };
}

type DiffRow = typeof versionDiffs.$inferSelect;

function toView(viewer: Viewer, row: DiffRow): FileDiffView {
  const active = row.status === "queued" || row.status === "running";
  return {
    id: row.id,
    fromVersionId: row.fromVersionId,
    toVersionId: row.toVersionId,
    status: row.status,
    failureReason: row.failureReason,
    ...splitStoredFiles(row.files),
    cancelRequested: row.cancelRequestedAt !== null,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    canCancel: active && canCancelFileDiff(viewer, row),
  };
}

/** Whether the viewer sees both versions (null when either is hidden or gone). */
async function bothVisible(viewer: Viewer, fromVersionId: string, toVersionId: string): Promise<boolean> {
  try {
    await loadVisiblePair(viewer, fromVersionId, toVersionId);
    return true;
  } catch (error) {
    if (error instanceof HangarError && error.code === "not_found") return false;
    throw error;
  }
}

/** One diff by id, for its polling route; null unless the viewer sees both versions. */
export async function getFileDiffById({
  viewer,
  diffId,
}: {
  viewer: Viewer;
  diffId: string;
}): Promise<FileDiffView | null> {
  if (!isUuid(diffId)) return null;
  const [row] = await db().select().from(versionDiffs).where(eq(versionDiffs.id, diffId));
  if (!row || !(await bothVisible(viewer, row.fromVersionId, row.toVersionId))) return null;
  return toView(viewer, row);
}

/**
 * The latest file diff of a pair (in that direction) for the diff page: null when none was asked
 * for yet; not_found when the viewer can't see both versions.
 */
export async function getFileDiff({
  viewer,
  fromVersionId,
  toVersionId,
}: {
  viewer: Viewer;
  fromVersionId: string;
  toVersionId: string;
}): Promise<FileDiffView | null> {
  await loadVisiblePair(viewer, fromVersionId, toVersionId);
  const [row] = await db()
    .select()
    .from(versionDiffs)
    .where(and(eq(versionDiffs.fromVersionId, fromVersionId), eq(versionDiffs.toVersionId, toVersionId)))
    .orderBy(desc(versionDiffs.queuedAt))
    .limit(1);
  return row ? toView(viewer, row) : null;
}

/**
 * Cancels a diff: a queued one ends at once, a running one is asked to stop (its worker sees it at
 * the next heartbeat and kills its process group). Whoever asked for it and admins may.
 */
export async function cancelFileDiff({
  viewer,
  diffId,
}: {
  viewer: Viewer;
  diffId: string;
}): Promise<{ status: ContentJobStatus }> {
  const diff = await getFileDiffById({ viewer, diffId });
  if (!diff) throw new HangarError("not_found", "That comparison doesn't exist or you can't see it.");
  if (diff.status !== "queued" && diff.status !== "running")
    throw new HangarError("conflict", `This comparison already ended (${diff.status}); there is nothing to cancel.`);
  if (!diff.canCancel)
    throw new HangarError(
      "forbidden",
      "Only whoever asked for this comparison and admins can cancel it. Nothing was changed.",
    );
  const [queued] = await db()
    .update(versionDiffs)
    .set({
      status: "cancelled",
      failureReason: "Cancelled before it started.",
      cancelRequestedAt: sql`now()`,
      finishedAt: sql`now()`,
    })
    .where(and(eq(versionDiffs.id, diffId), eq(versionDiffs.status, "queued")))
    .returning({ id: versionDiffs.id });
  if (queued) return { status: "cancelled" };
  await db()
    .update(versionDiffs)
    .set({ cancelRequestedAt: sql`coalesce(${versionDiffs.cancelRequestedAt}, now())` })
    .where(and(eq(versionDiffs.id, diffId), eq(versionDiffs.status, "running")));
  return { status: "running" };
}
