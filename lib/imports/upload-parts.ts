// With blobs in a bucket, an upload's spool is shipped while it arrives: each completed part of the
// local file becomes a part of the multipart upload `<prefix>uploads/<id>`, and the row records how
// many bytes from the start the bucket holds. On the last byte the tail is shipped and the upload
// completed, so the object is there before the version is ready, with no copy. Another process
// can resume from what the bucket holds (docs/design/uploads-across-processes.md, "A + C").
import { createWriteStream } from "node:fs";
import { open, truncate } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
  type Part,
} from "@aws-sdk/client-s3";
import { recordUploadParts } from "@/db/queries/uploads";
import type { S3BlobStore } from "@/lib/storage";
import type { TempFileWriter } from "./temp-file-writer";

const MIN_PART_BYTES = 16 * 1024 * 1024;
const MAX_PARTS = 1000;
const MiB = 1024 * 1024;
/** Parts uploading at once. */
const PARTS_IN_FLIGHT = 4;
/** Completed parts of the spool that wait for a slot before the socket is paused. */
const PARTS_WAITING = 2;

/** 16 MiB, or more for uploads over 15.6 GiB (Swift takes 1,000 parts): the same on every process. */
export function partSizeFor(size: number): number {
  return Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/** The object key, under the prefix, an upload's parts go to: what its blob row records. */
export const uploadObjectKey = (uploadId: string) => `uploads/${uploadId}`;

const nameOf = (error: unknown) => (error as Error | undefined)?.name;

/** Ships one upload's spool to its multipart upload as the spool fills. */
export class PartShipper {
  readonly partSize: number;
  private readonly etags = new Map<number, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private spooled = 0;
  private nextPart = 1;
  private failure: unknown = null;
  private recording: Promise<unknown> = Promise.resolve();
  private recorded = 0;
  completed = false;

  constructor(
    private readonly store: S3BlobStore,
    readonly uploadId: string,
    readonly multipartId: string,
    readonly size: number,
    private readonly spoolPath: string,
  ) {
    this.partSize = partSizeFor(size);
  }

  /** Bytes from the start that are parts in the bucket. */
  get durable(): number {
    let part = 1;
    while (this.etags.has(part)) part += 1;
    return Math.min(this.size, (part - 1) * this.partSize);
  }

  /** The spool holds `bytes` from the start: parts it completes are shipped (never the last one here). */
  spooledTo(bytes: number): void {
    this.spooled = Math.max(this.spooled, bytes);
    this.pump(false);
  }

  /** A new request: the spool holds `bytes`; parts that failed before are tried again. */
  resume(bytes: number): void {
    if (this.failure) {
      this.failure = null;
      this.nextPart = Math.floor(this.durable / this.partSize) + 1;
    }
    this.spooled = bytes;
    this.pump(false);
  }

  /**
   * Waits while too many completed parts of the spool are not shipped yet. Once shipping failed it
   * waits no more: the rest of the request still goes to the spool (the client would see a broken
   * request as final), and the request then fails (drain or complete), to be resumed from there.
   */
  async room(): Promise<void> {
    while (
      !this.failure &&
      this.inFlight.size &&
      Math.floor(this.spooled / this.partSize) - (this.nextPart - 1) >= PARTS_WAITING
    )
      await Promise.race(this.inFlight);
  }

  /** Waits for the parts under way; throws if one failed. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.race(this.inFlight);
    await this.recording;
    if (this.failure) throw this.failure;
  }

  /** The whole file is spooled: ships the rest, completes the multipart upload. */
  async complete(): Promise<void> {
    this.spooled = this.size;
    this.pump(true);
    while (this.inFlight.size || this.nextPart <= this.lastPart) {
      await this.drain();
      this.pump(true);
    }
    const Parts: Part[] = [...this.etags].sort(([a], [b]) => a - b).map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
    await this.store.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.store.bucket,
        Key: this.store.uploadKeyOf(this.uploadId),
        UploadId: this.multipartId,
        MultipartUpload: { Parts },
      }),
    );
    this.completed = true;
    await recordUploadParts({
      id: this.uploadId,
      s3UploadId: this.multipartId,
      durableBytes: this.size,
      replacing: this.multipartId,
    });
  }

  private get lastPart(): number {
    return Math.max(1, Math.ceil(this.size / this.partSize));
  }

  private pump(final: boolean): void {
    while (!this.failure && this.inFlight.size < PARTS_IN_FLIGHT && this.nextPart <= this.lastPart) {
      const start = (this.nextPart - 1) * this.partSize;
      const end = Math.min(this.size, start + this.partSize);
      // The part that ends the file goes only with complete(): until then a takeover finds the
      // file unfinished, and the client sends the last bytes again.
      if (end > this.spooled || (end === this.size && !final)) break;
      const number = this.nextPart;
      this.nextPart += 1;
      if (this.etags.has(number)) continue;
      const shipping: Promise<void> = this.ship(number, start, end).then(
        () => void this.inFlight.delete(shipping),
        (error: unknown) => {
          this.failure ??= error;
          this.inFlight.delete(shipping);
        },
      );
      this.inFlight.add(shipping);
    }
  }

  private async ship(PartNumber: number, start: number, end: number): Promise<void> {
    const body = Buffer.allocUnsafe(end - start);
    const file = await open(this.spoolPath, "r");
    try {
      for (let done = 0; done < body.length;) {
        const { bytesRead } = await file.read(body, done, body.length - done, start + done);
        if (bytesRead === 0) throw new Error(`the spool of upload ${this.uploadId} ended at ${start + done} bytes`);
        done += bytesRead;
      }
    } finally {
      await file.close();
    }
    const answer = await this.store.client.send(
      new UploadPartCommand({
        Bucket: this.store.bucket,
        Key: this.store.uploadKeyOf(this.uploadId),
        UploadId: this.multipartId,
        PartNumber,
        Body: body,
        ContentLength: body.length,
      }),
    );
    if (!answer.ETag) throw new Error(`the object store gave part ${PartNumber} of upload ${this.uploadId} no ETag`);
    this.etags.set(PartNumber, answer.ETag);
    const durable = this.durable;
    if (durable > this.recorded) {
      this.recorded = durable;
      this.recording = this.recording.then(() =>
        recordUploadParts({
          id: this.uploadId,
          s3UploadId: this.multipartId,
          durableBytes: durable,
          replacing: this.multipartId,
        }).catch(() => {}),
      );
    }
  }
}

/**
 * A temp file writer that also says how many bytes from `start` are in the file without a gap
 * (the ring writes its slots concurrently, so they may land out of order).
 */
export function reportingSpool(
  file: TempFileWriter,
  start: number,
  onSpooled: (bytes: number) => void,
): TempFileWriter {
  let contiguous = start;
  const landed = new Map<number, number>();
  return {
    async write(bytes, position) {
      await file.write(bytes, position);
      landed.set(position, position + bytes.length);
      for (let end = landed.get(contiguous); end !== undefined; end = landed.get(contiguous)) {
        landed.delete(contiguous);
        contiguous = end;
      }
      onSpooled(contiguous);
    },
    get bytesWritten() {
      return file.bytesWritten;
    },
    close: () => file.close(),
  };
}

/** Starts an upload's multipart upload and records it (replacing `replacing`, when given). */
export async function beginUploadParts({
  store,
  uploadId,
  replacing,
}: {
  store: S3BlobStore;
  uploadId: string;
  replacing?: string | null;
}): Promise<string> {
  const answer = await store.client.send(
    new CreateMultipartUploadCommand({
      Bucket: store.bucket,
      Key: store.uploadKeyOf(uploadId),
      ContentType: "application/octet-stream",
    }),
  );
  if (!answer.UploadId) throw new Error("the object store started a multipart upload without an id");
  if (!(await recordUploadParts({ id: uploadId, s3UploadId: answer.UploadId, durableBytes: 0, replacing }))) {
    await store.deleteUploadObject({ uploadId, multipartId: answer.UploadId });
    throw new Error(`upload ${uploadId} was taken over by another process meanwhile`);
  }
  return answer.UploadId;
}

/**
 * What a process taking an upload over does with what the bucket holds of it: completes the
 * orphaned multipart upload with its parts from the start (never the whole file: the client then
 * sends the end again, and the last byte finalises), writes those bytes into the local spool, and
 * removes the object. Returns the bytes now in the spool.
 */
export async function recoverUploadParts({
  store,
  uploadId,
  multipartId,
  size,
  spoolPath,
}: {
  store: S3BlobStore;
  uploadId: string;
  multipartId: string | null;
  size: number;
  spoolPath: string;
}): Promise<number> {
  const Bucket = store.bucket;
  const Key = store.uploadKeyOf(uploadId);
  const partSize = partSizeFor(size);
  const limit = Math.floor(Math.max(0, size - 1) / partSize) * partSize;
  let prefix = 0;
  let gone = multipartId === null;
  if (multipartId) {
    const parts: Part[] = [];
    try {
      let PartNumberMarker: string | undefined;
      do {
        const page = await store.client.send(
          new ListPartsCommand({ Bucket, Key, UploadId: multipartId, PartNumberMarker }),
        );
        parts.push(...(page.Parts ?? []));
        PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (PartNumberMarker);
    } catch (error) {
      if (nameOf(error) !== "NoSuchUpload") throw error;
      gone = true;
    }
    const byNumber = new Map(parts.map((part) => [part.PartNumber, part]));
    const prefixParts: Part[] = [];
    for (let number = 1; ; number += 1) {
      const part = byNumber.get(number);
      if (!part?.ETag || part.Size !== partSize || prefix + partSize > limit) break;
      prefixParts.push({ PartNumber: number, ETag: part.ETag });
      prefix += partSize;
    }
    if (!gone) {
      if (prefixParts.length)
        await store.client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: multipartId,
            MultipartUpload: { Parts: prefixParts },
          }),
        );
      else await store.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: multipartId }));
    }
  }
  if (gone) {
    // Completed already (a process died between completing and finalising, or mid-takeover).
    const object = await store.client
      .send(new HeadObjectCommand({ Bucket, Key }))
      .catch((error: unknown) =>
        nameOf(error) === "NotFound" || nameOf(error) === "NoSuchKey" ? null : Promise.reject(error),
      );
    prefix = object ? Math.min(limit, Math.floor((object.ContentLength ?? 0) / partSize) * partSize) : 0;
  }
  await truncate(spoolPath, 0).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  if (prefix > 0) {
    const answer = await store.client.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=0-${prefix - 1}` }));
    await pipeline(answer.Body as Readable, createWriteStream(spoolPath, { flags: "w", mode: 0o600 }));
  } else {
    await (await open(spoolPath, "w", 0o600)).close();
  }
  await store.deleteUploadObject({ uploadId });
  return prefix;
}
