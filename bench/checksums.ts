// The blob.checksums job (sha512 and md5 of a file that just landed) runs in the background after
// the step that stored the file. A benchmark waits for it between steps, untimed, so it never runs
// inside the next step's timing or its anchor's.
import { listBlobsMissingChecksums } from "../db/queries/blobs";
import { sweepBlobChecksums } from "../lib/storage/checksums";

/** Queues the job for every blob still lacking sha512 or md5, then waits until none does. */
export async function settleChecksums({ timeoutMs = 10 * 60_000 }: { timeoutMs?: number } = {}): Promise<void> {
  await sweepBlobChecksums({ log: () => {} });
  const started = Date.now();
  for (;;) {
    const missing = await listBlobsMissingChecksums();
    if (missing.length === 0) return;
    if (Date.now() - started > timeoutMs)
      throw new Error(`sha512/md5 of ${missing.length} blob(s) were still missing after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
