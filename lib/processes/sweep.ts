// What every process runs, at start and every few seconds: work owned by processes that died (on
// any machine) is ended with a reason a person can read, their half-written blobs and this
// machine's scratch go, and nothing a live process owns is touched.
import { deleteBlobWrite, deleteOrphanBlob, listAbandonedBlobWrites } from "@/db/queries/blobs";
import { failConversionsOfDeadProcesses } from "@/db/queries/conversions";
import { listInterruptedImports } from "@/db/queries/imports";
import { deleteLongDeadProcesses, PROCESS_LEASE_SECONDS } from "@/db/queries/processes";
import { failImport, listExpiredActiveUploads } from "@/db/queries/uploads";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";
import { env } from "@/lib/env";
import { isWorkerRunning, queue } from "@/lib/jobs/queue";
import { getBlobStore } from "@/lib/storage";
import { UNOWNED_WORK_SECONDS } from "./blob-writes";
import { sweepScratch } from "./scratch";

/** A dead process's row stays this long, so its host and pid can still be looked up. */
const FORGET_PROCESS_SECONDS = 24 * 60 * 60;

export interface SweepOptions {
  leaseSeconds?: number;
  unownedSeconds?: number;
  log?: (line: string) => void;
}

export interface SweepReport {
  expiredUploads: number;
  interruptedImports: number;
  failedConversions: number;
  removedBlobs: number;
  removedTempFiles: number;
}

export async function sweepDeadProcessWork({
  leaseSeconds = PROCESS_LEASE_SECONDS,
  unownedSeconds = UNOWNED_WORK_SECONDS,
  log = () => {},
}: SweepOptions = {}): Promise<SweepReport> {
  const report: SweepReport = {
    expiredUploads: 0,
    interruptedImports: 0,
    failedConversions: 0,
    removedBlobs: 0,
    removedTempFiles: 0,
  };
  for (const upload of await listExpiredActiveUploads({ leaseSeconds })) {
    await failImport({
      versionId: upload.versionId,
      uploadId: upload.id,
      actorId: null,
      reason: "The upload expired after 24 hours without finishing; start it again.",
    });
    report.expiredUploads += 1;
  }
  for (const { versionId, uploadId } of await listInterruptedImports({ leaseSeconds })) {
    // Its upload session ends with it: the tus file then goes like any without a live session.
    await failImport({
      versionId,
      uploadId: uploadId ?? undefined,
      actorId: null,
      reason:
        "The server stopped while this import was being processed (its process or machine died); nothing was kept. Start the import again.",
    });
    report.interruptedImports += 1;
  }
  for (const id of await failConversionsOfDeadProcesses({ leaseSeconds })) {
    log(`Conversion ${id} lost its worker; marked failed.`);
    report.failedConversions += 1;
  }
  const store = getBlobStore();
  for (const write of await listAbandonedBlobWrites({ leaseSeconds, unownedSeconds })) {
    const removed = await deleteOrphanBlob({
      sha256: write.sha256,
      leaseSeconds,
      unownedSeconds,
      removeBytes: () => store.delete(write.sha256),
    });
    await deleteBlobWrite({ id: write.id });
    if (removed) report.removedBlobs += 1;
  }
  report.removedTempFiles += await sweepScratch({ root: env().dataDir, leaseSeconds });
  // A worker sweeps lost builds itself (lib/jobs/queue.ts); a web-only process does it here, so
  // builds are ended even while no worker runs.
  if (!isWorkerRunning())
    await sweepStaleBuilds({
      log,
      // The queue's client starts only if a build was in fact lost.
      queue: { fail: async (name, id, data) => (await queue()).fail(name, id, data) },
    });
  await deleteLongDeadProcesses({ olderThanSeconds: FORGET_PROCESS_SECONDS });
  return report;
}

/** Runs the sweep now and every `intervalMs` until stopped; one at a time, failures logged. */
export function startProcessSweeps({
  intervalMs = 10_000,
  log = () => {},
  ...options
}: SweepOptions & { intervalMs?: number } = {}): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const sweep = () => {
    if (running) return;
    running = sweepDeadProcessWork({ ...options, log })
      .then((report) => {
        if (Object.values(report).some((count) => count > 0))
          log(`Swept dead processes' work: ${JSON.stringify(report)}`);
      })
      .catch((error: unknown) => log(`Sweep of dead processes' work failed: ${(error as Error).message}`))
      .finally(() => (running = null));
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
