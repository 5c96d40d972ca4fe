// After the last byte: qemu-img cross-check on the private temp file, the expected checksum,
// then an atomic move into the blob store and the version flipped to ready in one transaction.
// Any refusal leaves no blob and a failed version whose reason says what to do.
import { rm } from "node:fs/promises";
import { completeImport, failImport } from "@/db/queries/uploads";
import type { DiskFormat } from "@/db/schema";
import { crossCheck } from "@/lib/images/qemu-img";
import { sendContentScan } from "@/lib/content/requests";
import { adoptStoredObject, storeBlob } from "@/lib/processes/blob-writes";
import { queueBlobChecksums } from "@/lib/storage/checksums";
import { queueVersionEvent } from "@/lib/webhooks/events";
import { queueBootTestAfterUpload } from "@/lib/content/boot-queue";
import { checkBootability } from "@/lib/content/boot-sectors";
import type { IngestResult } from "./ingest";

export class ImportRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "ImportRefused";
  }
}

export interface FinalizeInput {
  versionId: string;
  uploadId?: string;
  actorId: string | null;
  tempPath: string;
  ingest: IngestResult;
  expectedSha256: string | null;
  quotaBytes: number;
  /**
   * The bytes are in the bucket already, completed in place at this key (under the prefix): the
   * blob row records it instead of a put of the temp file. `remove` deletes that object.
   */
  storedObject?: { key: string; remove(): Promise<void> };
}

export interface FinalizedImport {
  format: DiskFormat;
  virtualSize: number;
  sha256: string;
  size: number;
}

function firstProblem(problems: { message: string }[], fallback: string): string {
  return problems.map((problem) => problem.message).join(" ") || fallback;
}

export async function finalizeImport(input: FinalizeInput): Promise<FinalizedImport> {
  const { ingest } = input;
  let recorded = false;
  try {
    if (input.expectedSha256 && input.expectedSha256 !== ingest.sha256) {
      throw new ImportRefused(
        `The file's sha256 is ${ingest.sha256}, not the ${input.expectedSha256} you expected: the file changed or was damaged on the way. Check the source and upload it again.`,
      );
    }
    if (!ingest.report.safe)
      throw new ImportRefused(firstProblem(ingest.report.problems, "The file did not pass inspection."));
    const checked = await crossCheck({ path: input.tempPath, report: ingest.report, quotaBytes: input.quotaBytes });
    if (!checked.safe)
      throw new ImportRefused(
        firstProblem(checked.problems, "qemu-img did not agree with the inspection of this file."),
      );
    const format = ingest.report.format as DiskFormat;
    const virtualSize = ingest.report.virtualSize ?? 0;
    // Read here, from the file just received: once stored in a bucket, reading it means fetching it.
    const bootable = await checkBootability({ file: input.tempPath, format });
    const record = () =>
      completeImport({
        versionId: input.versionId,
        uploadId: input.uploadId,
        actorId: input.actorId,
        file: {
          format,
          virtualSize,
          fileSize: ingest.size,
          sha256: ingest.sha256,
          sha512: ingest.sha512,
          inspection: { ...ingest.report, qemuImg: checked.info ?? null },
          objectKey: input.storedObject?.key ?? null,
        },
      });
    const stored = input.storedObject;
    const completed = stored
      ? await adoptStoredObject({ sha256: ingest.sha256, remove: () => stored.remove() }, record)
      : await storeBlob({ tempPath: input.tempPath, sha256: ingest.sha256, size: ingest.size }, record);
    recorded = true;
    if (stored) await rm(input.tempPath, { force: true });
    // Outside the catch: the version is ready whatever happens to the inspection job.
    if (completed.scanRequested) await sendContentScan(ingest.sha256);
    // The upload hashed sha256 and sha512 while it arrived; md5 (for OpenNebula and Glance) follows.
    await queueBlobChecksums(ingest.sha256);
    await queueBootTestAfterUpload({ versionId: input.versionId, bootable, actorId: input.actorId });
    await queueVersionEvent("version.ready", { versionId: input.versionId, actorId: input.actorId });
    return { format, virtualSize, sha256: ingest.sha256, size: ingest.size };
  } catch (error) {
    await rm(input.tempPath, { force: true });
    // Bytes a ready version refers to stay, whatever failed after.
    if (!recorded) await input.storedObject?.remove().catch(() => {});
    const reason =
      error instanceof ImportRefused
        ? error.reason
        : "The import failed on the server while storing the file; nothing was kept. Try again.";
    if (!(error instanceof ImportRefused)) console.error("import finalisation failed", error);
    await failImport({ versionId: input.versionId, uploadId: input.uploadId, actorId: input.actorId, reason });
    await queueVersionEvent("version.failed", {
      versionId: input.versionId,
      actorId: input.actorId,
      extra: { reason },
    });
    throw error instanceof ImportRefused ? error : new ImportRefused(reason);
  }
}
