// Copies every blob from one store to the other (`npm run blobs -- migrate`) while Hangar keeps
// running on the source. Each blob goes through a temp file under HANGAR_DATA_DIR (a hard link
// when the source is the local directory), is hashed on the way and refused unless it hashes to
// its name, and is read back from the target and hashed again after the put. A blob the target
// already holds at the right size is skipped, which is what makes an interrupted run resumable.
// Nothing is ever deleted from the source.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { link, rm, utimes } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { listBlobReferences, type BlobReference } from "@/db/queries/blobs";
import { beginBlobWrite } from "@/lib/processes/blob-writes";
import { createTempPath, type BlobStore } from "@/lib/storage";
import { createProgress, type ProgressSink } from "./progress";
import { rebaseLegacyOverlays, type RebasedOverlay } from "./rebase-legacy";

export interface MigrateReport {
  from: string;
  to: string;
  /** Passes over the source: a later one copies what Hangar wrote while the previous one ran. */
  passes: number;
  copied: number;
  copiedBytes: number;
  alreadyThere: number;
  /** Referenced, but in neither store: nothing to copy (`verify` on the source says the same). */
  missing: BlobReference[];
  /** Not copied: the source's bytes don't hash to their name, or the target's copy read back wrong. */
  failed: { sha256: string; reason: string }[];
  /** Linked clones' overlays that named their base by a local path, rewritten to name it by sha256 (new blobs). */
  rebased: RebasedOverlay[];
  seconds: number;
}

class BlobCopyError extends Error {}

// Loose temp files (made outside the process registry) are swept when older than ten minutes; a
// large blob's upload can take longer, so its file's time is kept fresh while it is in use.
const KEEP_FRESH_MS = 60_000;

async function sha256Of(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function counting(onBytes: (bytes: number) => void, hash: ReturnType<typeof createHash>) {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

async function copyBlob({
  source,
  target,
  dataDir,
  sha256,
  size,
  replace,
  onBytes,
}: {
  source: BlobStore;
  target: BlobStore;
  dataDir: string;
  sha256: string;
  size: number;
  replace: boolean;
  onBytes: (bytes: number) => void;
}): Promise<void> {
  const temp = await createTempPath({ root: dataDir, prefix: "blob-migrate" });
  const fresh = setInterval(() => {
    const now = new Date();
    utimes(temp, now, now).catch(() => {});
  }, KEEP_FRESH_MS);
  fresh.unref();
  try {
    const hash = createHash("sha256");
    const file = await source.storedFile(sha256);
    let linked = false;
    if (file) {
      // The same file system: a link costs no space and the put reads the blob itself.
      await rm(temp, { force: true });
      linked = await link(file, temp).then(
        () => true,
        () => false,
      );
    }
    if (linked) {
      for await (const chunk of createReadStream(temp, { highWaterMark: 1024 * 1024 })) {
        hash.update(chunk as Buffer);
        onBytes((chunk as Buffer).length);
      }
    } else {
      await pipeline(
        await source.createReadStream(sha256),
        counting(onBytes, hash),
        createWriteStream(temp, { flags: "w", mode: 0o600 }),
      );
    }
    const digest = hash.digest("hex");
    if (digest !== sha256)
      throw new BlobCopyError(
        `the source's bytes hash to ${digest}, not to their name; not copied (the source's copy is damaged)`,
      );
    const write = await beginBlobWrite(sha256);
    try {
      if (replace) await target.delete(sha256);
      await target.putFromTempFile({ tempPath: temp, sha256, size });
      const stored = await target.stat(sha256);
      const readBack = stored?.size === size ? await sha256Of(await target.createReadStream(sha256)) : null;
      if (readBack !== sha256) {
        await target.delete(sha256);
        throw new BlobCopyError(
          stored?.size === size
            ? `the target's copy read back hashes to ${readBack}; removed it from the target`
            : `the target holds ${stored ? `${stored.size} bytes` : "nothing"} after the put, not ${size}; removed it from the target`,
        );
      }
    } finally {
      // Ended, never discarded: discarding deletes from the configured store, which may be the source.
      await write.end();
    }
  } finally {
    clearInterval(fresh);
    await rm(temp, { force: true });
  }
}

/** Errors that would fail every blob alike: stop the run and say why instead of listing each. */
function isFatal(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (error as Error).name === "S3ConfigurationError" || code === "ENOSPC" || code === "EACCES";
}

export async function migrateBlobs({
  source,
  target,
  from,
  to,
  dataDir,
  sink,
  maxPasses = 5,
  rebaseOverlays = false,
}: {
  source: BlobStore;
  target: BlobStore;
  from: string;
  to: string;
  dataDir: string;
  sink: ProgressSink;
  maxPasses?: number;
  /** From the local store into a bucket: overlays naming their base by a local path are rewritten first. */
  rebaseOverlays?: boolean;
}): Promise<MigrateReport> {
  const started = Date.now();
  const report: MigrateReport = {
    from,
    to,
    passes: 0,
    copied: 0,
    copiedBytes: 0,
    alreadyThere: 0,
    missing: [],
    failed: [],
    rebased: [],
    seconds: 0,
  };
  const settled = new Set<string>();
  const remapped = new Map<string, string>();
  const unrebased = new Map<string, string>();
  while (report.passes < maxPasses) {
    report.passes += 1;
    const pass = report.passes;
    if (rebaseOverlays) {
      // Each pass: a clone made on a legacy clone while the previous one ran names its old blob.
      const { rebased, failed } = await rebaseLegacyOverlays({ source, dataDir, remapped });
      report.rebased.push(...rebased);
      for (const { sha256, reason } of failed) unrebased.set(sha256, reason);
    }
    // Present in the source (an upload in flight too) or referenced: what the target must hold.
    const candidates = new Set<string>();
    for await (const sha256 of source.list()) if (!settled.has(sha256)) candidates.add(sha256);
    const references = new Map((await listBlobReferences()).map((reference) => [reference.sha256, reference]));
    for (const sha256 of references.keys()) if (!settled.has(sha256)) candidates.add(sha256);
    sink.line(`Pass ${pass}: checking ${candidates.size} blob${candidates.size === 1 ? "" : "s"} in both stores...`);
    const plan: { sha256: string; size: number; replace: boolean }[] = [];
    report.missing = [];
    for (const sha256 of [...candidates].sort()) {
      const [inSource, inTarget] = await Promise.all([source.stat(sha256), target.stat(sha256)]);
      const reference = references.get(sha256);
      if (!inSource) {
        if (inTarget && (!reference || inTarget.size === reference.size)) {
          report.alreadyThere += 1;
          settled.add(sha256);
        } else if (reference) report.missing.push(reference);
        continue;
      }
      if (inTarget?.size === inSource.size) {
        report.alreadyThere += 1;
        settled.add(sha256);
        continue;
      }
      plan.push({ sha256, size: inSource.size, replace: inTarget !== null });
    }
    if (!plan.length) break;
    const progress = createProgress({
      verb: `Pass ${pass}: copying`,
      blobs: plan.length,
      bytes: plan.reduce((sum, blob) => sum + blob.size, 0),
      sink,
    });
    try {
      for (const blob of plan) {
        settled.add(blob.sha256);
        try {
          await copyBlob({ source, target, dataDir, ...blob, onBytes: (bytes) => progress.advance(bytes) });
          report.copied += 1;
          report.copiedBytes += blob.size;
        } catch (error) {
          if (isFatal(error)) throw error;
          report.failed.push({ sha256: blob.sha256, reason: (error as Error).message });
        }
        progress.advance(0, true);
      }
    } finally {
      progress.finish();
    }
  }
  // The blob is copied as it is, but no machine but this one can read it.
  for (const [sha256, reason] of unrebased) if (!remapped.has(sha256)) report.failed.push({ sha256, reason });
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  return report;
}
