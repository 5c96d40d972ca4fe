// Converted downloads: `qemu-img convert` with explicit -f/-O into a private temp file, the output
// re-inspected like any import, then cached as a blob so each (version, format) converts once.
// It is served as soon as its sha256 is known; its sha512 and md5 follow from blob.checksums.
import { rm } from "node:fs/promises";
import { completeConversion, getConversionWork, setConversionState } from "@/db/queries/conversions";
import { env } from "@/lib/env";
import { withStagedDisk } from "@/lib/images/backing";
import { qemuImgConvert } from "@/lib/images/qemu-img";
import { jobStopped } from "@/lib/jobs/job-run";
import { createTempPath } from "@/lib/storage";
import { currentProcessId } from "@/lib/processes/identity";
import { storeBlob } from "@/lib/processes/blob-writes";
import { queueBlobChecksums } from "@/lib/storage/checksums";
import { checkProducedFile } from "./ingest";

export async function runConversion(
  { conversionId }: { conversionId: string },
  { signal }: { signal?: AbortSignal } = {},
) {
  const row = await getConversionWork({ conversionId });
  if (!row || row.status === "succeeded" || !row.sourceSha256 || !row.sourceFormat) return;
  await setConversionState(conversionId, {
    status: "running",
    progress: 0,
    failureReason: null,
    processId: currentProcessId(),
  });
  const tempPath = await createTempPath({ root: env().dataDir, prefix: "convert" });
  let lastProgress = 0;
  try {
    // A linked clone's overlay is read through its bases: the output is flattened.
    const source = { sha256: row.sourceSha256, format: row.sourceFormat };
    await withStagedDisk(source, (staged) =>
      qemuImgConvert({
        src: staged.path,
        srcFormat: source.format,
        dst: tempPath,
        dstFormat: row.targetFormat,
        signal,
        onProgress: (percent: number) => {
          if (percent - lastProgress >= 1) {
            lastProgress = percent;
            void setConversionState(conversionId, { progress: Math.floor(percent) }).catch(() => {});
          }
        },
      }),
    );
    // What we wrote is still checked like anything else before anyone downloads it: one pass
    // hashes (sha256 only) and inspects it, then qemu-img cross-checks. That pass reads from the page
    // cache while the kernel writes the same pages to disk, so the blob store's fsync finds little left to do.
    const ingest = await checkProducedFile(tempPath, row.targetFormat, { sha512: false });
    if (ingest.refusal) throw new Error(`converted output failed inspection: ${ingest.refusal}`);
    if (signal?.aborted) throw signal.reason;
    await storeBlob({ tempPath, sha256: ingest.sha256, size: ingest.size }, () =>
      completeConversion({ conversionId, sha256: ingest.sha256, size: ingest.size }),
    );
    await queueBlobChecksums(ingest.sha256);
  } catch (error) {
    await rm(tempPath, { force: true });
    console.error("conversion failed", error);
    await setConversionState(conversionId, {
      status: "failed",
      failureReason: signal?.aborted
        ? (jobStopped(signal)?.message ?? "The conversion was stopped before it finished; request it again.")
        : "qemu-img could not convert this version; an admin can find the details in the server log.",
    });
  }
}
