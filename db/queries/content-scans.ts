// Content scans as their worker runs them (lib/content/scan.ts): one row per blob, requested when
// a version becomes ready with new bytes (idempotent: identical bytes are inspected once), claimed
// queued -> running, heartbeat (where a cancel request is seen), the facts and packages stored in
// one transaction, a readable reason on failure, and the sweep that ends scans whose worker died.
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { ContentFacts, ContentPackage } from "@/lib/content/types";
import { isUuid } from "@/lib/ids";
import { db, type Database } from "../client";
import type { PackageScheme } from "../enums";
import { contentPackages, contentScans, imageVersions, images, type DiskFormat } from "../schema";
import { visibleVersionCondition } from "./access";
import type { Viewer } from "./users";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/**
 * Records that a blob's content must be read, inside the caller's transaction (the version that
 * makes it ready). Idempotent: bytes already scanned, queued or running are left alone. True when
 * a new request was recorded, so the caller sends the job once the transaction commits.
 */
export async function insertContentScanRequest(tx: Tx | Database, { sha256 }: { sha256: string }): Promise<boolean> {
  const inserted = await tx
    .insert(contentScans)
    .values({ sha256 })
    .onConflictDoNothing()
    .returning({ sha256: contentScans.sha256 });
  return inserted.length > 0;
}

/**
 * Asks for a blob to be read again: a new request when there is none, a failed or cancelled scan
 * back to queued. A scan queued, running or done is left as it is. True when a job must be sent.
 */
export async function requestContentScan({ sha256 }: { sha256: string }): Promise<boolean> {
  return db().transaction(async (tx) => {
    if (await insertContentScanRequest(tx, { sha256 })) return true;
    const again = await tx
      .update(contentScans)
      .set({
        status: "queued",
        failureReason: null,
        workerHost: null,
        workerPid: null,
        processGroup: null,
        heartbeatAt: null,
        cancelRequestedAt: null,
        startedAt: null,
        finishedAt: null,
        queuedAt: sql`now()`,
      })
      .where(and(eq(contentScans.sha256, sha256), inArray(contentScans.status, ["failed", "cancelled"])))
      .returning({ sha256: contentScans.sha256 });
    return again.length > 0;
  });
}

/**
 * Start-up reconciliation, one statement: a request for every ready version's blob that has none
 * (the demo catalog, versions from before inspection existed). Returns every blob whose scan is
 * queued, new or left queued by a worker that stopped before sending its job: sending a job for
 * one twice is harmless, only one claim wins.
 */
export async function requestMissingContentScans(): Promise<string[]> {
  await db().execute(sql`
    insert into content_scans (sha256)
    select distinct v.sha256 from image_versions v
    where v.data_status = 'ready' and v.sha256 is not null
    on conflict do nothing`);
  const queued = await db()
    .select({ sha256: contentScans.sha256 })
    .from(contentScans)
    .where(eq(contentScans.status, "queued"));
  return queued.map((row) => row.sha256);
}

export interface ContentScanClaim {
  workerHost: string;
  workerPid: number;
}

/** Takes a queued scan for this worker; false when it is not queued (already taken, done, cancelled). */
export async function claimContentScan(sha256: string, claim: ContentScanClaim): Promise<boolean> {
  const claimed = await db()
    .update(contentScans)
    .set({
      status: "running",
      startedAt: sql`now()`,
      heartbeatAt: sql`now()`,
      failureReason: null,
      processGroup: null,
      ...claim,
    })
    .where(and(eq(contentScans.sha256, sha256), eq(contentScans.status, "queued")))
    .returning({ sha256: contentScans.sha256 });
  return claimed.length > 0;
}

/** A running scan's worker says it is alive; false when the scan should stop (cancel requested, or no longer running). */
export async function heartbeatContentScan(sha256: string): Promise<boolean> {
  const [row] = await db()
    .update(contentScans)
    .set({ heartbeatAt: sql`now()` })
    .where(and(eq(contentScans.sha256, sha256), eq(contentScans.status, "running")))
    .returning({ cancelRequestedAt: contentScans.cancelRequestedAt });
  return row !== undefined && row.cancelRequestedAt === null;
}

/** The process group running the appliance, so a sweep can kill it if the worker dies. */
export async function setContentScanProcessGroup(sha256: string, processGroup: number): Promise<void> {
  await db().update(contentScans).set({ processGroup }).where(eq(contentScans.sha256, sha256));
}

/** Asks a queued or running scan to stop (a queued one stops at once; a running one at its next heartbeat). */
export async function requestContentScanCancel({ sha256 }: { sha256: string }): Promise<boolean> {
  return db().transaction(async (tx) => {
    const queued = await tx
      .update(contentScans)
      .set({
        status: "cancelled",
        failureReason: "Cancelled before it started.",
        finishedAt: sql`now()`,
        cancelRequestedAt: sql`now()`,
      })
      .where(and(eq(contentScans.sha256, sha256), eq(contentScans.status, "queued")))
      .returning({ sha256: contentScans.sha256 });
    if (queued.length > 0) return true;
    const running = await tx
      .update(contentScans)
      .set({ cancelRequestedAt: sql`now()` })
      .where(and(eq(contentScans.sha256, sha256), eq(contentScans.status, "running")))
      .returning({ sha256: contentScans.sha256 });
    return running.length > 0;
  });
}

export interface ContentScanDisk {
  format: DiskFormat;
  /** A linked clone's base: read through the overlay's backing chain. */
  backing: { sha256: string; format: DiskFormat } | null;
}

/** How to open a blob: the format of a ready version holding it, and its backing version's blob when it is a linked clone. */
export async function findContentScanDisk(sha256: string): Promise<ContentScanDisk | null> {
  const result = await db().execute<{
    format: DiskFormat;
    backing_sha256: string | null;
    backing_format: DiskFormat | null;
    backing_version_id: string | null;
  }>(sql`
    select v.format, v.backing_version_id, b.sha256 as backing_sha256, b.format as backing_format
    from image_versions v
    left join image_versions b on b.id = v.backing_version_id
    where v.sha256 = ${sha256} and v.data_status = 'ready' and v.format is not null
    order by (v.backing_version_id is null) desc, v.created_at
    limit 1`);
  const row = result.rows[0];
  if (!row) return null;
  if (row.backing_version_id && (!row.backing_sha256 || !row.backing_format))
    throw new Error("this linked clone's base version has no stored file");
  return {
    format: row.format,
    backing:
      row.backing_sha256 && row.backing_format ? { sha256: row.backing_sha256, format: row.backing_format } : null,
  };
}

/** A package row as stored: the package, and its place in its scheme's version ordering. */
export type StoredPackage = ContentPackage & { scheme: PackageScheme; sortKey: Buffer };

const PACKAGE_BATCH = 1000;

/**
 * Stores a scan's facts and packages in one transaction. Only a scan still running without a
 * cancel request is completed; false otherwise (then nothing was written).
 */
export async function completeContentScan({
  sha256,
  facts,
  packages,
  durationMs,
}: {
  sha256: string;
  facts: Omit<ContentFacts, "packages">;
  packages: StoredPackage[];
  durationMs: number;
}): Promise<boolean> {
  class NotRunning extends Error {}
  try {
    await db().transaction(async (tx) => {
      const [done] = await tx
        .update(contentScans)
        .set({
          ...facts,
          status: "succeeded",
          failureReason: null,
          packageCount: packages.length,
          durationMs,
          processGroup: null,
          finishedAt: sql`now()`,
        })
        .where(
          and(
            eq(contentScans.sha256, sha256),
            eq(contentScans.status, "running"),
            isNull(contentScans.cancelRequestedAt),
          ),
        )
        .returning({ sha256: contentScans.sha256 });
      if (!done) throw new NotRunning();
      await tx.delete(contentPackages).where(eq(contentPackages.scanSha256, sha256));
      for (let start = 0; start < packages.length; start += PACKAGE_BATCH) {
        await tx
          .insert(contentPackages)
          .values(packages.slice(start, start + PACKAGE_BATCH).map((item) => ({ ...item, scanSha256: sha256 })));
      }
    });
    return true;
  } catch (error) {
    if (error instanceof NotRunning) return false;
    throw error;
  }
}

/** Ends a running (or still queued) scan as failed or cancelled with its reason. */
export async function failContentScan({
  sha256,
  status,
  reason,
}: {
  sha256: string;
  status: "failed" | "cancelled";
  reason: string;
}): Promise<void> {
  await db()
    .update(contentScans)
    .set({ status, failureReason: reason, processGroup: null, finishedAt: sql`now()` })
    .where(and(eq(contentScans.sha256, sha256), inArray(contentScans.status, ["queued", "running"])));
}

export const STALE_CONTENT_SCAN_REASON =
  "The worker reading this image stopped without finishing (its process or machine died). Nothing was kept; inspect it again.";

/** Ends scans whose worker stopped sending heartbeats; returns where each ran, so its leftovers can go. */
export async function sweepStaleContentScans({
  staleSeconds,
}: {
  staleSeconds: number;
}): Promise<{ sha256: string; workerHost: string | null; processGroup: number | null }[]> {
  return db()
    .update(contentScans)
    .set({ status: "failed", failureReason: STALE_CONTENT_SCAN_REASON, finishedAt: sql`now()` })
    .where(
      and(
        eq(contentScans.status, "running"),
        sql`${contentScans.heartbeatAt} < now() - make_interval(secs => ${staleSeconds})`,
      ),
    )
    .returning({
      sha256: contentScans.sha256,
      workerHost: contentScans.workerHost,
      processGroup: contentScans.processGroup,
    });
}

export type ContentScan = typeof contentScans.$inferSelect;

/** A blob's scan row, or null (no request yet). */
export async function getContentScan(sha256: string): Promise<ContentScan | null> {
  const [row] = await db().select().from(contentScans).where(eq(contentScans.sha256, sha256));
  return row ?? null;
}

/** A version as "Inspect again" needs it: its blob and whether the viewer sees it, or null when it doesn't exist. */
export async function findVersionForRescan({ viewer, versionId }: { viewer: Viewer; versionId: string }): Promise<{
  projectId: string;
  visible: boolean;
  sha256: string | null;
  ready: boolean;
  imageSlug: string;
} | null> {
  if (!isUuid(versionId)) return null;
  const [row] = await db()
    .select({
      projectId: images.projectId,
      visible: sql<boolean>`${visibleVersionCondition(viewer)}`,
      sha256: imageVersions.sha256,
      ready: sql<boolean>`${imageVersions.dataStatus} = 'ready'`,
      imageSlug: images.slug,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(eq(imageVersions.id, versionId));
  return row ?? null;
}
