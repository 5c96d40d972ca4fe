// tus's FileStore, with every byte that reaches the temp file also fed to the import's ingest
// session (hashes + inspector) in the same pass: what gets written is the session's own copy, the
// very bytes it hashed. A session that lost track (a dropped request, a server restart) is rebuilt
// from the bytes on disk before new bytes are accepted. With blobs in a bucket the spool is also
// shipped as it fills (upload-parts.ts), and a process that takes an upload over from another one
// rebuilds its spool from what the bucket holds.
import { chmod, truncate } from "node:fs/promises";
import type http from "node:http";
import type stream from "node:stream";
import { FileStore } from "@tus/file-store";
import { ERRORS, Upload } from "@tus/utils";
import type { HeldUpload } from "@/db/queries/uploads";
import type { DiskFormat } from "@/db/schema";
import type { S3BlobStore } from "@/lib/storage";
import { IngestSession } from "./ingest";
import { beginUploadParts, PartShipper, recoverUploadParts, reportingSpool } from "./upload-parts";
import { openTempFileWriter } from "./temp-file-writer";

export interface UploadStoreHooks {
  claimedFormatOf(uploadId: string): Promise<DiskFormat | null>;
  onProgress?(uploadId: string, bytes: number): void;
}

export class IngestingFileStore extends FileStore {
  private readonly sessions = new Map<string, IngestSession>();
  private readonly shippers = new Map<string, PartShipper>();
  private readonly adopting = new Map<string, Promise<void>>();

  constructor(
    directory: string,
    private readonly hooks: UploadStoreHooks,
    expirationPeriodInMilliseconds: number,
    /** Blobs in a bucket: uploads are shipped to it as they arrive, and any process can resume them. */
    readonly bucket: S3BlobStore | null = null,
  ) {
    super({ directory, expirationPeriodInMilliseconds });
  }

  pathOf(uploadId: string): string {
    return `${this.directory}/${uploadId}`;
  }

  async create(file: Upload): Promise<Upload> {
    const created = await super.create(file);
    await chmod(this.pathOf(file.id), 0o600);
    if (this.bucket) {
      const multipartId = await beginUploadParts({ store: this.bucket, uploadId: file.id, replacing: null });
      this.shippers.set(
        file.id,
        new PartShipper(this.bucket, file.id, multipartId, file.size ?? 0, this.pathOf(file.id)),
      );
    }
    return created;
  }

  /**
   * Makes this process's spool of a held upload current: kept when this process shipped the
   * multipart upload the row names, else rebuilt from what the bucket holds (a takeover).
   */
  async adopt(uploadId: string, held: HeldUpload): Promise<void> {
    if (!this.bucket) return;
    const shipper = this.shippers.get(uploadId);
    if (shipper && shipper.multipartId === held.s3UploadId) return;
    const running = this.adopting.get(uploadId);
    if (running) return running;
    const adopting = this.takeOver(uploadId, held, this.bucket).finally(() => this.adopting.delete(uploadId));
    this.adopting.set(uploadId, adopting);
    return adopting;
  }

  private async takeOver(uploadId: string, held: HeldUpload, bucket: S3BlobStore): Promise<void> {
    this.dropSession(uploadId);
    this.shippers.delete(uploadId);
    const spoolPath = this.pathOf(uploadId);
    const size = held.declaredLength;
    const prefix = await recoverUploadParts({
      store: bucket,
      uploadId,
      multipartId: held.s3UploadId,
      size,
      spoolPath,
    });
    await this.configstore.set(
      uploadId,
      new Upload({ id: uploadId, size, offset: 0, creation_date: held.createdAt.toISOString() }),
    );
    const multipartId = await beginUploadParts({ store: bucket, uploadId, replacing: held.s3UploadId });
    // The prefix goes up again from the rebuilt spool while the client sends the rest.
    const shipper = new PartShipper(bucket, uploadId, multipartId, size, spoolPath);
    this.shippers.set(uploadId, shipper);
    shipper.resume(prefix);
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
    const shipper = this.shippers.get(uploadId);
    shipper?.resume(offset);
    session.writeTo(shipper ? reportingSpool(file, offset, (bytes) => shipper.spooledTo(bytes)) : file);
    let received: unknown = null;
    try {
      for await (const chunk of readable) {
        await session.write(chunk as Buffer);
        this.hooks.onProgress?.(uploadId, session.bytes);
        // The bucket falling behind pauses the socket, as the ring does.
        await shipper?.room();
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
    const end = offset + file.bytesWritten;
    if (shipper) await this.settleShipping(uploadId, shipper, end);
    if (received) throw ERRORS.FILE_WRITE_ERROR;
    return end;
  }

  /**
   * Ships what this request completed, and on the last byte completes the object. If the bucket
   * fails at the end, the spool is cut back to what the bucket holds, so the upload is not
   * "finished" without its object: the client sends the end again.
   */
  private async settleShipping(uploadId: string, shipper: PartShipper, end: number): Promise<void> {
    try {
      if (end === shipper.size) await shipper.complete();
      else await shipper.drain();
    } catch (error) {
      console.error(`upload ${uploadId}: shipping to the object store failed`, error);
      if (end === shipper.size) {
        this.dropSession(uploadId);
        await truncate(this.pathOf(uploadId), shipper.durable);
      }
      throw ERRORS.FILE_WRITE_ERROR;
    }
  }

  /** Whether the upload's object is complete in the bucket (then its blob row records its key). */
  isShipped(uploadId: string): boolean {
    return this.shippers.get(uploadId)?.completed ?? false;
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

  /** Forgets what this process held of an upload once it ended; the object stays (its blob row decides). */
  forget(uploadId: string): void {
    this.dropSession(uploadId);
    this.shippers.delete(uploadId);
  }

  async remove(uploadId: string): Promise<void> {
    this.dropSession(uploadId);
    const shipper = this.shippers.get(uploadId);
    this.shippers.delete(uploadId);
    if (this.bucket && shipper) {
      await this.bucket.deleteUploadObject({ uploadId, multipartId: shipper.multipartId }).catch(() => {});
      await this.bucket.deleteUploadObject({ uploadId }).catch(() => {});
    }
    await super.remove(uploadId);
  }
}
