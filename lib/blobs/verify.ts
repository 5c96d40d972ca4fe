// `npm run blobs -- verify`: every referenced blob is in the configured store at the size its row
// recorded (with `deep`, its bytes hash to its name), and which stored objects nothing refers to.
// The store is listed before the references and writes are read: a blob seen in the listing was
// either written under a write record that is still live, or referenced by the time we read, so an
// upload in flight is never called an orphan.
import { createHash } from "node:crypto";
import { listBlobReferences, listLiveBlobWrites, type BlobReference } from "@/db/queries/blobs";
import { PROCESS_LEASE_SECONDS } from "@/db/queries/processes";
import { UNOWNED_WORK_SECONDS } from "@/lib/processes/blob-writes";
import { classifyUploadObjects } from "@/lib/processes/upload-objects";
import { BlobNotFoundError, type BlobStore } from "@/lib/storage";
import { createProgress, type Progress, type ProgressSink } from "./progress";

export interface VerifyReport {
  store: string;
  deep: boolean;
  checked: number;
  checkedBytes: number;
  missing: BlobReference[];
  damaged: (BlobReference & { problem: string })[];
  /** Stored, referred to by nothing, written by no live process: start-up reconciliation removes them. */
  orphans: { sha256: string; size: number | null }[];
  /** Stored and unreferenced, but a live process is writing them now: not orphans. */
  inFlight: number;
  /** In a bucket, under `uploads/`: objects no blob row names and multipart uploads of no active upload. */
  orphanUploads: { key: string; size: number }[];
}

/** The blob's sha256 as read now, or "missing" when it went between stat and read (deleted meanwhile). */
async function hashOf(store: BlobStore, sha256: string, progress: Progress): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of await store.createReadStream(sha256)) {
      hash.update(chunk as Buffer);
      progress.advance((chunk as Buffer).length);
    }
  } catch (error) {
    if (error instanceof BlobNotFoundError) return "missing";
    throw error;
  }
  return hash.digest("hex");
}

export async function verifyBlobs({
  store,
  description,
  deep,
  sink,
}: {
  store: BlobStore;
  description: string;
  deep: boolean;
  sink: ProgressSink;
}): Promise<VerifyReport> {
  const stored = new Set<string>();
  for await (const sha256 of store.list()) stored.add(sha256);
  const references = await listBlobReferences();
  const writing = await listLiveBlobWrites({
    leaseSeconds: PROCESS_LEASE_SECONDS,
    unownedSeconds: UNOWNED_WORK_SECONDS,
  });
  const report: VerifyReport = {
    store: description,
    deep,
    checked: 0,
    checkedBytes: 0,
    missing: [],
    damaged: [],
    orphans: [],
    inFlight: 0,
    orphanUploads: [],
  };
  const progress = createProgress({
    verb: deep ? "Hashing" : "Checking",
    blobs: references.length,
    bytes: references.reduce((sum, reference) => sum + reference.size, 0),
    sink,
  });
  try {
    for (const reference of references) {
      const info = await store.stat(reference.sha256);
      const digest = info?.size === reference.size && deep ? await hashOf(store, reference.sha256, progress) : null;
      if (!info || digest === "missing") report.missing.push(reference);
      else if (info.size !== reference.size)
        report.damaged.push({ ...reference, problem: `${info.size} bytes stored, ${reference.size} expected` });
      else if (digest && digest !== reference.sha256)
        report.damaged.push({ ...reference, problem: `its bytes hash to ${digest}` });
      if (!deep) progress.advance(reference.size);
      report.checked += 1;
      report.checkedBytes += reference.size;
      progress.advance(0, true);
    }
  } finally {
    progress.finish();
  }
  const referenced = new Set(references.map((reference) => reference.sha256));
  for (const sha256 of [...stored].sort()) {
    if (referenced.has(sha256)) continue;
    if (writing.has(sha256)) report.inFlight += 1;
    else report.orphans.push({ sha256, size: (await store.stat(sha256))?.size ?? null });
  }
  const uploads = await classifyUploadObjects(store);
  report.inFlight += uploads.live;
  report.orphanUploads = uploads.orphans.map((object) => ({
    key: `uploads/${object.uploadId}${object.multipartId ? " (unfinished multipart upload)" : ""}`,
    size: object.size,
  }));
  return report;
}
