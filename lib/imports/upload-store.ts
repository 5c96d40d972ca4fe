// tus's FileStore, with every byte that reaches the temp file also fed to the import's ingest
// session (hashes + inspector) in the same pass: what gets written is the session's own copy, the
// very bytes it hashed. A session that lost track (a dropped request, a server restart) is rebuilt
// from the bytes on disk before new bytes are accepted.
import { chmod } from "node:fs/promises";
import type http from "node:http";
import type stream from "node:stream";
import { FileStore } from "@tus/file-store";
import { ERRORS, type Upload } from "@tus/utils";
import type { DiskFormat } from "@/db/schema";
import { IngestSession } from "./ingest";
import { openTempFileWriter } from "./temp-file-writer";

export interface UploadStoreHooks {
  claimedFormatOf(uploadId: string): Promise<DiskFormat | null>;
  onProgress?(uploadId: string, bytes: number): void;
}

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
    const rebuilt = await IngestSession.fromFile(
      this.pathOf(uploadId),
      offset,
      await this.hooks.claimedFormatOf(uploadId),
    );
    this.sessions.set(uploadId, rebuilt);
    return rebuilt;
  }

  async write(readable: http.IncomingMessage | stream.Readable, uploadId: string, offset: number): Promise<number> {
    const session = await this.sessionAt(uploadId, offset);
    // Only this request's bytes may reach the file through the session's slots.
    await session.flush();
    const file = await openTempFileWriter(this.pathOf(uploadId));
    session.writeTo(file);
    let received: unknown = null;
    try {
      for await (const chunk of readable) {
        await session.write(chunk as Buffer);
        this.hooks.onProgress?.(uploadId, session.bytes);
      }
    } catch (error) {
      // The bytes that did arrive are still written below, so a resumed upload starts after them.
      received = error;
    }
    try {
      await session.flush();
    } catch {
      // The session saw bytes the file may not have; the next request rebuilds it from disk.
      this.dropSession(uploadId);
      throw ERRORS.FILE_WRITE_ERROR;
    } finally {
      session.writeTo(null);
      await file.close();
    }
    if (received) throw ERRORS.FILE_WRITE_ERROR;
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
