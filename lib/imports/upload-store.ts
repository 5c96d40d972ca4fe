// tus's FileStore, with every byte that reaches the temp file also fed to the import's ingest
// session (hashes + inspector) in the same pass. A session that lost track (a dropped request, a
// server restart) is rebuilt from the bytes on disk before new bytes are accepted.
import { createWriteStream } from "node:fs";
import { chmod, open } from "node:fs/promises";
import stream from "node:stream";
import { pipeline } from "node:stream/promises";
import type http from "node:http";
import { FileStore } from "@tus/file-store";
import { ERRORS, type Upload } from "@tus/utils";
import type { DiskFormat } from "@/db/schema";
import { IngestSession } from "./ingest";

export interface UploadStoreHooks {
  claimedFormatOf(uploadId: string): Promise<DiskFormat | null>;
  onProgress?(uploadId: string, bytes: number): void;
}

// Left alone, the kernel keeps a whole multi-gigabyte upload dirty in memory and the blob store's
// fsync at the end writes it all while the client waits. Asking for writeback every so often
// while bytes arrive spreads that work over the upload, when the disk is otherwise idle.
const WRITEBACK_EVERY_BYTES = 64 * 1024 * 1024;

export class IngestingFileStore extends FileStore {
  private readonly sessions = new Map<string, IngestSession>();

  constructor(
    directory: string,
    private readonly hooks: UploadStoreHooks,
    expirationPeriodInMilliseconds: number,
  ) {
    super({ directory, expirationPeriodInMilliseconds });
  }

  pathOf(uploadId: string): string {
    return `${this.directory}/${uploadId}`;
  }

  async create(file: Upload): Promise<Upload> {
    const created = await super.create(file);
    await chmod(this.pathOf(file.id), 0o600);
    return created;
  }

  private async sessionAt(uploadId: string, offset: number): Promise<IngestSession> {
    const existing = this.sessions.get(uploadId);
    if (existing && existing.bytes === offset) return existing;
    existing?.abort();
    const rebuilt = await IngestSession.fromFile(this.pathOf(uploadId), offset, await this.hooks.claimedFormatOf(uploadId));
    this.sessions.set(uploadId, rebuilt);
    return rebuilt;
  }

  async write(readable: http.IncomingMessage | stream.Readable, uploadId: string, offset: number): Promise<number> {
    const session = await this.sessionAt(uploadId, offset);
    const hooks = this.hooks;
    const syncHandle = await open(this.pathOf(uploadId), "r");
    let writeback: Promise<void> | null = null;
    let sinceWriteback = 0;
    const tap = new stream.Transform({
      transform(chunk: Buffer, _encoding, callback) {
        session.write(chunk).then(() => {
          hooks.onProgress?.(uploadId, session.bytes);
          sinceWriteback += chunk.length;
          if (sinceWriteback >= WRITEBACK_EVERY_BYTES && !writeback) {
            sinceWriteback = 0;
            writeback = syncHandle.datasync().then(
              () => void (writeback = null),
              () => void (writeback = null),
            );
          }
          callback(null, chunk);
        }, callback);
      },
    });
    const file = createWriteStream(this.pathOf(uploadId), { flags: "r+", start: offset });
    try {
      await pipeline(readable, tap, file);
    } catch {
      // The session saw bytes the file may not have; the next request rebuilds it from disk.
      throw ERRORS.FILE_WRITE_ERROR;
    } finally {
      await writeback;
      await syncHandle.close();
    }
    return offset + file.bytesWritten;
  }

  /** Hands the finished session over (once) to finalisation. */
  takeSession(uploadId: string): IngestSession | undefined {
    const session = this.sessions.get(uploadId);
    this.sessions.delete(uploadId);
    return session;
  }

  dropSession(uploadId: string): void {
    this.sessions.get(uploadId)?.abort();
    this.sessions.delete(uploadId);
  }

  async remove(uploadId: string): Promise<void> {
    this.dropSession(uploadId);
    await super.remove(uploadId);
  }
}
