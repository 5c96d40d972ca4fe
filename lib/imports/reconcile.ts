// Start-up reconciliation after a crash or kill: nothing half-written may stay visible. Temp files
// without a live upload session go; blobs that no version or conversion references go; uploads
// past their expiry end failed; imports that were mid-finalisation (or URL imports whose job is
// gone) end failed with a reason, while live tus uploads stay resumable.
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { deleteUnreferencedBlob, listReferencedBlobs } from "@/db/queries/blobs";
import { listInterruptedImports } from "@/db/queries/imports";
import { failImport, listActiveUploadIds, listExpiredActiveUploads } from "@/db/queries/uploads";
import { env } from "@/lib/env";
import { getBlobStore } from "@/lib/storage";

const STALE_TEMP_MS = 10 * 60 * 1000;

export interface ReconcileReport {
  expiredUploads: number;
  interruptedImports: number;
  removedTempFiles: number;
  removedBlobs: number;
}

export async function reconcileStorage({
  log = () => {},
}: { log?: (line: string) => void } = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = { expiredUploads: 0, interruptedImports: 0, removedTempFiles: 0, removedBlobs: 0 };
  for (const upload of await listExpiredActiveUploads()) {
    await failImport({
      versionId: upload.versionId,
      uploadId: upload.id,
      actorId: null,
      reason: "The upload expired after 24 hours without finishing; start it again.",
    });
    report.expiredUploads += 1;
  }
  for (const versionId of await listInterruptedImports()) {
    await failImport({
      versionId,
      actorId: null,
      reason: "The server stopped while this import was being processed; nothing was kept. Start the import again.",
    });
    report.interruptedImports += 1;
  }

  const live = await listActiveUploadIds();
  const uploadDir = path.join(env().dataDir, "uploads");
  for (const name of await readdir(uploadDir).catch(() => [] as string[])) {
    const id = name.replace(/\.json$/, "");
    if (live.has(id)) continue;
    await rm(path.join(uploadDir, name), { force: true });
    report.removedTempFiles += 1;
  }
  const tmpDir = path.join(env().dataDir, "tmp");
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    // Workers elsewhere may share this directory: a file still being written has a fresh mtime.
    const file = path.join(tmpDir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile() && Date.now() - info.mtimeMs > STALE_TEMP_MS) {
      await rm(file, { force: true });
      report.removedTempFiles += 1;
    }
  }

  const keep = await listReferencedBlobs();
  const store = getBlobStore();
  for await (const sha256 of store.list()) {
    if (keep.has(sha256)) continue;
    await store.delete(sha256);
    await deleteUnreferencedBlob(sha256);
    report.removedBlobs += 1;
  }
  const changed = Object.values(report).some((count) => count > 0);
  if (changed) log(`Reconciled storage: ${JSON.stringify(report)}`);
  return report;
}
