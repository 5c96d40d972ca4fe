// Start-up reconciliation after a crash or kill: nothing half-written may stay visible, and nothing
// another live process is writing (on this machine or another) is touched. What dead processes
// owned ends as the periodic sweep ends it (lib/processes/sweep.ts); tus temp files without a live
// upload session go; blobs that nothing refers to and no live process is writing go, and so do a
// bucket's upload objects that no blob row names and no active upload is shipping.
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { deleteOrphanBlob, listReferencedBlobs } from "@/db/queries/blobs";
import { PROCESS_LEASE_SECONDS } from "@/db/queries/processes";
import { listActiveUploadIds } from "@/db/queries/uploads";
import { env } from "@/lib/env";
import { UNOWNED_WORK_SECONDS } from "@/lib/processes/blob-writes";
import { sweepDeadProcessWork, type SweepReport } from "@/lib/processes/sweep";
import { removeOrphanUploadObjects } from "@/lib/processes/upload-objects";
import { getBlobStore } from "@/lib/storage";

export type ReconcileReport = SweepReport;

export async function reconcileStorage({
  leaseSeconds = PROCESS_LEASE_SECONDS,
  unownedSeconds = UNOWNED_WORK_SECONDS,
  log = () => {},
}: { leaseSeconds?: number; unownedSeconds?: number; log?: (line: string) => void } = {}): Promise<ReconcileReport> {
  const report = await sweepDeadProcessWork({ leaseSeconds, unownedSeconds, log });

  // Listed before the sessions are read: a session's row is written before its file, so a file
  // seen here whose session is active is kept, even one created a moment ago by another process.
  const uploadDir = path.join(env().dataDir, "uploads");
  const names = await readdir(uploadDir).catch(() => [] as string[]);
  const live = await listActiveUploadIds();
  for (const name of names) {
    if (live.has(name.replace(/\.json$/, ""))) continue;
    await rm(path.join(uploadDir, name), { force: true });
    report.removedTempFiles += 1;
  }

  // A first cut without locks; each candidate is then decided under its lock (deleteOrphanBlob).
  const keep = await listReferencedBlobs();
  const store = getBlobStore();
  for await (const sha256 of store.list()) {
    if (keep.has(sha256)) continue;
    const removed = await deleteOrphanBlob({
      sha256,
      leaseSeconds,
      unownedSeconds,
      removeBytes: () => store.delete(sha256),
    });
    if (removed) report.removedBlobs += 1;
  }
  // In a bucket: objects and multipart uploads under uploads/ that no blob and no active upload uses.
  report.removedBlobs += await removeOrphanUploadObjects(store);
  if (Object.values(report).some((count) => count > 0)) log(`Reconciled storage: ${JSON.stringify(report)}`);
  return report;
}
