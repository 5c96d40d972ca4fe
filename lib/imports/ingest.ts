// One pass over an import's bytes: the same slots that go to the temp file feed the hashes and the
// format inspector, so nothing is read twice however large the file.
import { open, stat } from "node:fs/promises";
import { createInspector, type InspectionReport } from "@/lib/images/inspector";
import { crossCheck, type QemuImgInfo } from "@/lib/images/qemu-img";
import { flushToDisk } from "@/lib/storage";
import type { DiskFormat } from "@/db/schema";
import { createStreamingHasher, type Digests, type StreamingHasher } from "./hasher";
import type { TempFileWriter } from "./temp-file-writer";

export interface IngestResult extends Digests {
  size: number;
  report: InspectionReport;
}

export class IngestSession {
  private readonly hasher: StreamingHasher;
  private readonly inspector;
  private received = 0;

  /** `sha512: false` hashes sha256 only (a file Hangar produced: blob.checksums adds sha512 and md5 later). */
  constructor(
    readonly claimedFormat: DiskFormat | null,
    { sha512 = true }: { sha512?: boolean } = {},
  ) {
    const inspector = createInspector({ claimedFormat: claimedFormat ?? undefined });
    this.inspector = inspector;
    this.hasher = createStreamingHasher({ observe: (bytes) => inspector.write(bytes), sha512 });
  }

  get bytes(): number {
    return this.received;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.received += chunk.byteLength;
    await this.hasher.update(chunk);
  }

  /** From now on the bytes also go to `file` (at their offset in the stream), until set to null. */
  writeTo(file: TempFileWriter | null): void {
    this.hasher.setSink(file ? (bytes, position) => file.write(bytes, position) : null);
  }

  /** Resolves once every byte written so far is hashed, inspected and (if writing to a file) in it. */
  async flush(): Promise<void> {
    await this.hasher.flush();
  }

  async finish(): Promise<IngestResult> {
    const digests = await this.hasher.digest();
    const report = this.inspector.finish();
    return { ...digests, size: this.received, report };
  }

  abort(): void {
    this.hasher.abort();
  }

  /**
   * Rebuilds a session from bytes already on disk (after a restart or a broken request), or checks
   * a file we wrote ourselves (a conversion, a build output). The file is read straight into the
   * hashing ring, through the page cache: such a file was usually just written, so its pages are
   * still there (an O_DIRECT read would first have to wait for them to reach the disk).
   */
  static async fromFile(
    path: string,
    length: number,
    claimedFormat: DiskFormat | null,
    options: { sha512?: boolean } = {},
  ): Promise<IngestSession> {
    const session = new IngestSession(claimedFormat, options);
    if (length === 0) return session;
    const file = await open(path, "r");
    try {
      const read = async (target: Uint8Array, position: number) =>
        (await file.read(target, 0, Math.min(target.length, length - position), position)).bytesRead;
      while (session.received < length) {
        const count = await session.hasher.fill(read);
        if (count === 0) throw new Error(`${path} ended after ${session.received} of the ${length} bytes expected`);
        session.received += count;
      }
      // Hands the last, partly filled slot over now: bytes written later go to a new slot.
      await session.flush();
      return session;
    } catch (error) {
      session.abort();
      throw error;
    } finally {
      await file.close();
    }
  }
}

export interface ProducedFileCheck extends IngestResult {
  /** Why the file may not be stored, in words, or null when it passed. */
  refusal: string | null;
  /** What qemu-img reported in the cross-check, when it ran. */
  qemuImg: QemuImgInfo | null;
}

/**
 * Checks a file Hangar produced itself (a conversion, a build output, a copied clone) like any
 * import: one pass hashes and inspects it while the kernel flushes the same pages to disk, then
 * qemu-img cross-checks it. With `sha512: false` that pass computes sha256 only, so the file can
 * be served as soon as it is checked; the blob.checksums job adds sha512 and md5 afterwards.
 */
export async function checkProducedFile(
  file: string,
  format: DiskFormat,
  { sha512 = true }: { sha512?: boolean } = {},
): Promise<ProducedFileCheck> {
  const size = (await stat(file)).size;
  const [ingest] = await Promise.all([
    IngestSession.fromFile(file, size, format, { sha512 }).then((session) => session.finish()),
    flushToDisk(file),
  ]);
  const checked = ingest.report.safe ? await crossCheck({ path: file, report: ingest.report }) : ingest.report;
  return {
    ...ingest,
    refusal: checked.safe ? null : checked.problems.map((problem) => problem.message).join(" "),
    qemuImg: "info" in checked ? (checked.info ?? null) : null,
  };
}
