// Blobs in an S3-compatible bucket, for Hangar on several machines. The client sends only what
// every S3-compatible server understands (no AWS-only checksum extensions: OpenStack Swift answers
// 501 to aws-chunked bodies), uploads in parts so an object appears whole or not at all, and hands
// tools local files through a sha256-verified cache (blob-cache.ts).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Agent } from "node:https";
import { Agent as HttpAgent } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createBlobCache, type BlobCache } from "./blob-cache";
import { assertSha256, assertTempFile, BlobNotFoundError, type BlobStore } from "./blob-store";

export interface S3Settings {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Unset: path-style when an endpoint is given. */
  forcePathStyle?: boolean;
  prefix?: string;
}

export interface S3BlobStoreOptions extends S3Settings {
  cache: { dir: string; maxBytes: number };
  /** Keys per listing request; unset, the server's own (1,000 on S3 and Swift). */
  listPageSize?: number;
  /**
   * Where the blob row says a blob's bytes are when not under its sha256 (an upload completed in
   * place: `uploads/<id>`), relative to the prefix; null or unset: `<sha256>`.
   */
  objectKeyOf?(sha256: string): Promise<string | null>;
  /** The blobs whose rows name these keys (relative to the prefix), key → sha256. */
  blobsAtKeys?(keys: string[]): Promise<Map<string, string>>;
}

/** An upload's object or unfinished multipart upload under `<prefix>uploads/`. */
export interface UploadObject {
  uploadId: string;
  /** Set for an unfinished multipart upload; absent for a completed object. */
  multipartId?: string;
  size: number;
  modified: Date;
}

export type S3BlobStore = BlobStore & {
  /** Resolves when the bucket is reachable with these credentials; else a message naming the setting. */
  check(): Promise<void>;
  readonly client: S3Client;
  readonly cache: BlobCache;
  readonly bucket: string;
  readonly prefix: string;
  /** The key of a blob stored under its sha256 (a blob row may name another: objectKeyOf). */
  keyOf(sha256: string): string;
  /** The key a blob's bytes are at: the one its row names (an upload's object), else keyOf(). */
  locate(sha256: string): Promise<string>;
  /** The key a tus upload's parts go to and its object stays at once complete. */
  uploadKeyOf(uploadId: string): string;
  /** Completed upload objects with no blob row naming them, and every unfinished multipart upload. */
  listUploadObjects(): AsyncIterable<UploadObject>;
  /** Removes an upload's object, or aborts its multipart upload (`multipartId`); either may be gone already. */
  deleteUploadObject(object: Pick<UploadObject, "uploadId" | "multipartId">): Promise<void>;
  /**
   * A URL that GETs the blob from the bucket without credentials for `expiresIn` seconds (Range
   * works on it), answered with these headers instead of the object's own.
   */
  presignedGetUrl(
    sha256: string,
    options: { expiresIn: number; contentDisposition: string; contentType: string; cacheControl: string },
  ): Promise<string>;
};

const UPLOADS = "uploads/";
const UPLOAD_ID = /^[0-9a-zA-Z_-]{1,100}$/;

// S3 allows at most 10,000 parts; Swift's s3api 1,000 by default. Parts of 16 MiB cover 15.6 GiB
// in 1,000 parts; larger blobs get larger parts.
const MIN_PART_BYTES = 16 * 1024 * 1024;
const MAX_PARTS = 1000;
const UPLOAD_QUEUE = 4;
const READ_CHUNK_BYTES = 1024 * 1024;

/** An S3 client configured for any S3-compatible server. */
export function createS3Client(settings: S3Settings): S3Client {
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle ?? Boolean(settings.endpoint),
    credentials:
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
        : undefined,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // A server that does not answer must fail in seconds; a slow download must not (the read
    // timeout is per socket inactivity, not per request).
    requestHandler: {
      connectionTimeout: 10_000,
      requestTimeout: 120_000,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new Agent(agentOptions),
    },
  });
  // Since the SDK stopped sending MD5s, DeleteObjects carries only a CRC32 when checksums are
  // "when required"; S3-compatible servers that predate that (Swift) insist on Content-MD5.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === "DeleteObjectsCommand" && request.headers && request.body !== undefined) {
        const body = request.body;
        if (typeof body === "string" || body instanceof Uint8Array)
          request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
      }
      return next(args);
    },
    { step: "build", name: "hangarContentMd5ForDeleteObjects" },
  );
  return client;
}

const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

// A missing bucket is a configuration error, never a missing blob (HEAD can't tell them apart: check() does).
const isNotFound = (error: unknown) =>
  error instanceof Error &&
  error.name !== "NoSuchBucket" &&
  (statusOf(error) === 404 || ["NotFound", "NoSuchKey"].includes(error.name));

/**
 * Says in words which setting to fix when the store can't be used: credentials, bucket, region or
 * endpoint. Other errors pass through.
 */
export function describeS3Error(error: unknown, settings: S3Settings): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const where = settings.endpoint ?? "AWS S3";
  const name = error.name;
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  const status = statusOf(error);
  let message: string | undefined;
  if (
    ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidClientTokenId"].includes(name) ||
    status === 403
  ) {
    message = `${where} refused Hangar's credentials for bucket ${settings.bucket} (${name}); check HANGAR_S3_ACCESS_KEY_ID and HANGAR_S3_SECRET_ACCESS_KEY`;
  } else if (name === "NoSuchBucket") {
    message = `bucket ${settings.bucket} does not exist at ${where}; create it, or fix HANGAR_S3_BUCKET`;
  } else if (
    name === "AuthorizationHeaderMalformed" ||
    name === "PermanentRedirect" ||
    name === "IllegalLocationConstraintException"
  ) {
    message = `${where} expects another region than ${settings.region} (${name}); set HANGAR_S3_REGION to the server's own`;
  } else if (
    ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EHOSTUNREACH", "ETIMEDOUT", "ENETUNREACH"].includes(
      code ?? "",
    ) ||
    name === "TimeoutError"
  ) {
    message = `could not reach the object store at ${where} (${code ?? name}); check HANGAR_S3_ENDPOINT and that the server is running`;
  } else if (status === 400 && ["Unknown", "UnknownError", "BadRequest"].includes(name)) {
    // Answers to HEAD have no body to name the problem; a region other than the server's is the usual one.
    message = `${where} answered 400 Bad Request without saying why; check HANGAR_S3_REGION (it must be the server's own, now ${settings.region})`;
  }
  if (!message) return error;
  return Object.assign(new Error(message, { cause: error }), { name: "S3ConfigurationError" });
}

function assertRange(sha256: string, range: { start: number; end: number }, size?: number) {
  const { start, end } = range;
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end < start ||
    (size !== undefined && end >= size)
  ) {
    throw new RangeError(
      `range ${start}-${end} is not inside blob ${sha256}${size === undefined ? "" : ` of ${size} bytes`}`,
    );
  }
}

export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const { bucket } = options;
  const prefix = options.prefix ?? "";
  const client = createS3Client(options);
  // The one place a blob's object key is made: everything that reaches an object asks it.
  const keyOf = (sha256: string) => `${prefix}${assertSha256(sha256)}`;
  const uploadKeyOf = (uploadId: string) => {
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`not an upload id: ${JSON.stringify(uploadId).slice(0, 80)}`);
    return `${prefix}${UPLOADS}${uploadId}`;
  };
  // The row is asked every time, not remembered: a blob deleted and stored again may move.
  const locate = async (sha256: string) => {
    assertSha256(sha256);
    const named = await options.objectKeyOf?.(sha256);
    return named ? `${prefix}${named}` : keyOf(sha256);
  };
  const fail = (error: unknown): never => {
    throw describeS3Error(error, options);
  };

  async function head(sha256: string): Promise<{ size: number } | null> {
    const Key = await locate(sha256);
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return { size: answer.ContentLength ?? 0 };
    } catch (error) {
      // HEAD has no body, so a missing bucket looks like a missing key here; check() tells them apart.
      if (isNotFound(error)) return null;
      return fail(error);
    }
  }

  async function get(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const answer = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: await locate(sha256),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      const body = answer.Body as Readable;
      if (range) {
        // A range reaching past the end comes back shortened: refuse it rather than promise more.
        const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(answer.ContentRange ?? "");
        if (!match || Number(match[1]) !== range.start || Number(match[2]) !== range.end) {
          body.destroy();
          if (match && match[3] !== "*") assertRange(sha256, range, Number(match[3]));
          throw new Error(
            `the object store answered range ${range.start}-${range.end} of blob ${sha256} with ${JSON.stringify(answer.ContentRange ?? "the whole object")}; refusing to send it`,
          );
        }
      }
      return body;
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(sha256);
      if (statusOf(error) === 416 && range) {
        const info = await head(sha256);
        if (!info) throw new BlobNotFoundError(sha256);
        assertRange(sha256, range, info.size);
      }
      if (error instanceof RangeError || error instanceof BlobNotFoundError) throw error;
      return fail(error);
    }
  }

  const cache = createBlobCache({
    dir: options.cache.dir,
    maxBytes: options.cache.maxBytes,
    async sizeOf(sha256) {
      const info = await head(sha256);
      if (!info) throw new BlobNotFoundError(sha256);
      return info.size;
    },
    async fetch(sha256, destination) {
      await pipeline(await get(sha256), createWriteStream(destination, { flags: "wx", mode: 0o600 }));
    },
  });

  async function* listUnder(Prefix: string) {
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: Prefix || undefined,
            ContinuationToken,
            MaxKeys: options.listPageSize,
          }),
        );
      } catch (error) {
        return fail(error);
      }
      yield page.Contents ?? [];
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  return {
    client,
    cache,
    bucket,
    prefix,
    keyOf,
    locate,
    uploadKeyOf,
    async presignedGetUrl(sha256, { expiresIn, contentDisposition, contentType, cacheControl }) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: await locate(sha256),
        ResponseContentDisposition: contentDisposition,
        ResponseContentType: contentType,
        ResponseCacheControl: cacheControl,
      });
      return getSignedUrl(client, command, { expiresIn });
    },
    async check() {
      try {
        // A listing, not HeadBucket: its error answers have a body that says what is wrong.
        await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1, Prefix: prefix || undefined }));
      } catch (error) {
        if (isNotFound(error))
          throw describeS3Error(Object.assign(new Error("no such bucket"), { name: "NoSuchBucket" }), options);
        fail(error);
      }
    },
    async putFromTempFile({ tempPath, sha256, size }) {
      const Key = await locate(sha256);
      await assertTempFile(tempPath, size);
      const existing = await head(sha256);
      if (existing?.size === size) {
        await rm(tempPath, { force: true });
        return { created: false };
      }
      const partSize = Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS));
      const upload = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key,
          Body: createReadStream(tempPath, { highWaterMark: READ_CHUNK_BYTES }),
          ContentLength: size,
          ContentType: "application/octet-stream",
        },
        partSize,
        queueSize: UPLOAD_QUEUE,
        // A failed multipart upload is aborted, so no half-written object and no stray parts.
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        fail(error);
      }
      await rm(tempPath, { force: true });
      return { created: true };
    },
    async createReadStream(sha256, range) {
      assertSha256(sha256);
      if (range) assertRange(sha256, range);
      return get(sha256, range);
    },
    async stat(sha256) {
      return head(sha256);
    },
    async delete(sha256) {
      keyOf(sha256);
      await cache.evict(sha256);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: await locate(sha256) }));
      } catch (error) {
        if (!isNotFound(error)) fail(error);
      }
    },
    async *listUploadObjects() {
      const under = `${prefix}${UPLOADS}`;
      for await (const objects of listUnder(under)) {
        const named = objects.flatMap((object) => {
          const uploadId = object.Key?.slice(under.length) ?? "";
          return UPLOAD_ID.test(uploadId)
            ? [{ uploadId, size: object.Size ?? 0, modified: object.LastModified ?? new Date() }]
            : [];
        });
        const blobs = (await options.blobsAtKeys?.(named.map((object) => `${UPLOADS}${object.uploadId}`))) ?? new Map();
        for (const object of named) if (!blobs.has(`${UPLOADS}${object.uploadId}`)) yield object;
      }
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: under, KeyMarker, UploadIdMarker }),
          );
        } catch (error) {
          return fail(error);
        }
        for (const upload of page.Uploads ?? []) {
          const uploadId = upload.Key?.slice(under.length) ?? "";
          if (UPLOAD_ID.test(uploadId) && upload.UploadId)
            yield { uploadId, multipartId: upload.UploadId, size: 0, modified: upload.Initiated ?? new Date() };
        }
        const more = page.IsTruncated && (page.NextKeyMarker || page.NextUploadIdMarker);
        KeyMarker = more ? page.NextKeyMarker : undefined;
        UploadIdMarker = more ? page.NextUploadIdMarker : undefined;
      } while (KeyMarker || UploadIdMarker);
    },
    async deleteUploadObject({ uploadId, multipartId }) {
      const Key = uploadKeyOf(uploadId);
      try {
        if (multipartId)
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: multipartId }));
        else await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (error) {
        if (!isNotFound(error) && (error as Error).name !== "NoSuchUpload") fail(error);
      }
    },
    async localPath(sha256) {
      assertSha256(sha256);
      return cache.path(sha256);
    },
    async withLocalPath(sha256, work) {
      return cache.withFile(sha256, work);
    },
    async storedFile(sha256) {
      assertSha256(sha256);
      return null;
    },
    async *list() {
      for await (const objects of listUnder(prefix)) {
        const uploads: string[] = [];
        for (const object of objects) {
          const name = object.Key?.slice(prefix.length);
          // Only names keyOf() would make, so whatever list() yields, stat() and delete() can reach.
          if (name && /^[0-9a-f]{64}$/.test(name)) yield name;
          else if (name?.startsWith(UPLOADS)) uploads.push(name);
        }
        // An upload completed in place is its blob's bytes too, once the blob row names it.
        if (uploads.length && options.blobsAtKeys)
          for (const sha256 of (await options.blobsAtKeys(uploads)).values()) yield sha256;
      }
    },
  };
}
