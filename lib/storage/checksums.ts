// sha512 and md5 of a stored blob, computed after it landed (the blob.checksums job). Platforms
// want them (Harvester and Glance sha512, OpenNebula and simplestreams md5), but a conversion or a
// flattened clone is served as soon as its sha256 is known, and an upload hashes no md5. One
// read of the file (a bucket's object streamed in, not copied into the cache) feeds both digests
// through one buffer, so memory stays flat whatever the size.
// The read runs as its own low-priority process group: it never holds the web process's event
// loop, it yields the cores to uploads and downloads, and a time limit or a stopping worker kills it.
import type { Readable } from "node:stream";
import { getBlobChecksums, listBlobsMissingChecksums, recordBlobChecksums } from "@/db/queries/blobs";
import { runInProcessGroup } from "@/lib/jobs/process-group";
import { enqueueOnce } from "@/lib/jobs/queue";
import { BlobNotFoundError, getBlobStore } from "./index";

const PYTHON = "/usr/bin/python3";
const NICE = "/usr/bin/nice";
const STDERR_TAIL_CHARS = 2000;

const DIGEST_SCRIPT = `
import hashlib, json, sys
path, names = sys.argv[1], sys.argv[2:]
hashes = [hashlib.new(name, usedforsecurity=False) for name in names]
buffer = bytearray(1 << 20)
view = memoryview(buffer)
size = 0
with open(int(path[3:]) if path.startswith("fd:") else path, "rb", buffering=0) as source:
    while True:
        count = source.readinto(buffer)
        if not count:
            break
        size += count
        for digest in hashes:
            digest.update(view[:count])
print(json.dumps({"size": size, **{name: digest.hexdigest() for name, digest in zip(names, hashes)}}))
`;

type Algorithm = "sha512" | "md5";

/** Reads the blob once (its file, or a stream of it) and returns its size and the digests asked for. */
async function digestBlob(
  blob: { file: string } | { stream: Readable },
  algorithms: Algorithm[],
  signal?: AbortSignal,
): Promise<{ size: number } & Partial<Record<Algorithm, string>>> {
  let run;
  try {
    run = runInProcessGroup(
      NICE,
      ["-n", "10", PYTHON, "-c", DIGEST_SCRIPT, "file" in blob ? blob.file : "fd:4", ...algorithms],
      { signal, input: "stream" in blob ? blob.stream : undefined },
    );
  } catch (error) {
    if ("stream" in blob) blob.stream.destroy();
    throw error;
  }
  let stdout = "";
  let stderr = "";
  run.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  run.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL_CHARS)));
  const code = await run.exit;
  if (signal?.aborted) throw signal.reason;
  if (code !== 0) {
    const last = stderr.trim().split("\n").filter(Boolean).slice(-2).join(" ");
    throw new Error(`reading the file failed (exit ${code}): ${last || "no output"}`);
  }
  return JSON.parse(stdout) as { size: number } & Partial<Record<Algorithm, string>>;
}

/** The job: computes whatever of sha512 and md5 the blob lacks and stores it; nothing to do when both are known. */
export async function runBlobChecksums({ sha256 }: { sha256: string }, { signal }: { signal?: AbortSignal } = {}) {
  const known = await getBlobChecksums({ sha256 });
  // A blob deleted since (nothing referred to it any more) has nothing to publish.
  if (!known) return;
  const missing: Algorithm[] = [];
  if (known.sha512 === null) missing.push("sha512");
  if (known.md5 === null) missing.push("md5");
  if (missing.length === 0) return;
  const what = missing.join(" and ");
  let digests: Awaited<ReturnType<typeof digestBlob>>;
  try {
    // The local store's own file, or the bucket's object streamed: never a whole copy in the cache.
    const store = getBlobStore();
    const file = await store.storedFile(sha256);
    digests = await digestBlob(file ? { file } : { stream: await store.createReadStream(sha256) }, missing, signal);
  } catch (error) {
    if (error instanceof BlobNotFoundError)
      throw new Error(
        `The stored file of blob ${sha256} is missing from the blob store, so its ${what} can't be computed and platforms that need them won't list it. Restore the file from a backup (or delete the versions that use it); Hangar queues the computation again at its next start.`,
      );
    if (signal?.aborted) throw error;
    throw new Error(`Computing the ${what} of blob ${sha256} failed: ${(error as Error).message}`);
  }
  if (digests.size !== known.size)
    throw new Error(
      `The stored file of blob ${sha256} is ${digests.size} bytes where ${known.size} were stored: it was damaged or replaced, so its ${what} would not describe what was uploaded. Restore the file from a backup.`,
    );
  await recordBlobChecksums({ sha256, sha512: digests.sha512, md5: digests.md5 });
}

/**
 * Queues the job for a blob that just landed without sha512 or md5 (at most one waits per blob).
 * Never throws: the blob is served either way, and the start-up sweep queues a lost job again.
 */
export async function queueBlobChecksums(sha256: string): Promise<void> {
  try {
    await enqueueOnce("blob.checksums", { sha256 }, sha256);
  } catch (error) {
    console.error(`could not queue the checksums of blob ${sha256}; they are queued again at the next start`, error);
  }
}

/** At start-up: a job for every blob still lacking sha512 or md5 (a lost job, or blobs from before md5). */
export async function sweepBlobChecksums({ log = console.log }: { log?: (line: string) => void } = {}): Promise<
  string[]
> {
  const missing = await listBlobsMissingChecksums();
  for (const sha256 of missing) await enqueueOnce("blob.checksums", { sha256 }, sha256);
  if (missing.length > 0) log(`Checksums (sha512, md5) queued for ${missing.length} stored file(s).`);
  return missing;
}
