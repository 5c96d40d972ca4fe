// One pass over an import's bytes: the same chunks that go to the temp file feed the hashes and
// the format inspector, so nothing is read twice however large the file.
import { createReadStream } from "node:fs";
import { createInspector, type InspectionReport } from "@/lib/images/inspector";
import type { DiskFormat } from "@/db/schema";
import { createStreamingHasher, type Digests, type StreamingHasher } from "./hasher";

export interface IngestResult extends Digests {
  size: number;
  report: InspectionReport;
}

export class IngestSession {
  private readonly hasher: StreamingHasher = createStreamingHasher();
  private readonly inspector;
  private received = 0;

  constructor(readonly claimedFormat: DiskFormat | null) {
    this.inspector = createInspector({ claimedFormat: claimedFormat ?? undefined });
  }

  get bytes(): number {
    return this.received;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.inspector.write(chunk);
    this.received += chunk.byteLength;
    await this.hasher.update(chunk);
  }

  async finish(): Promise<IngestResult> {
    const report = this.inspector.finish();
    const digests = await this.hasher.digest();
    return { ...digests, size: this.received, report };
  }

  abort(): void {
    this.hasher.abort();
  }

  /** Rebuilds a session from bytes already on disk (after a restart or a broken request). */
  static async fromFile(path: string, length: number, claimedFormat: DiskFormat | null): Promise<IngestSession> {
    const session = new IngestSession(claimedFormat);
    if (length === 0) return session;
    for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) {
      await session.write(chunk as Buffer);
    }
    return session;
  }
}
