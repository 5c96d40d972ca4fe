// Resumable uploads speak tus 1.0 (@tus/server). The supervisor's HTTP server (scripts/start.ts)
// hands /api/uploads to handleNode below rather than to a Next route handler: the App Router's
// request and stream layers cost about a third of the upload rate. Every request is
// re-authenticated; an upload session belongs to its creator and is a 404 to anyone else.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import type http from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Server } from "@tus/server";
import { EVENTS } from "@tus/utils";
import { z } from "zod";
import {
  failImport,
  getUpload,
  getUploadForUser,
  createImportVersion,
  holdUpload,
  recordImportProgress,
  releaseUpload,
  startUploadFinalisation,
} from "@/db/queries/uploads";
import { PROCESS_LEASE_SECONDS } from "@/db/queries/processes";
import { isConnectionError } from "@/db/health";
import { AccessDenied } from "@/db/queries/access";
import { getProjectQuota } from "@/db/queries/projects";
import type { Viewer } from "@/db/queries/users";
import { diskFormats } from "@/db/schema";
import { viewerFromAuthorization } from "@/lib/api/tokens";
import { clientAddressOf } from "@/lib/auth/client-address";
import { viewerFromSessionCookie } from "@/lib/auth/session-cookie";
import { errorBody, errorResponse, HangarError, httpStatusOf, type ErrorCode } from "@/lib/errors";
import { env } from "@/lib/env";
import { databaseUnavailableBody } from "@/lib/http/database-unavailable";
import { uploadBytesReceived, uploadStarted } from "@/lib/observability/metrics";
import { currentProcessId } from "@/lib/processes/identity";
import { flushToDisk, getBlobStore, type S3BlobStore } from "@/lib/storage";
import { slugSchema, versionLabelSchema } from "@/lib/validations/imports";
import { finalizeImport, ImportRefused } from "./finalize";
import { startHashThreads } from "./hasher";
import { EXPECTED_SHA256_HEADER, VERSION_ID_HEADER } from "./upload-protocol";
import { IngestSession } from "./ingest";
import { IngestingFileStore } from "./upload-store";
import { uploadObjectKey } from "./upload-parts";

export const UPLOAD_ROUTE = "/api/uploads";
export const UPLOAD_EXPIRY_MS = 24 * 60 * 60 * 1000;
export const MAX_UPLOAD_BYTES = 1024 ** 4;

// tus sends an empty metadata value as a bare key, which arrives as null.
const blankToUndefined = (value: unknown) => (value === null || value === "" ? undefined : value);

const metadataSchema = z.object({
  // The image by id (the import page) or by slug (the CLI's push); one of the two.
  imageId: z.preprocess(blankToUndefined, z.string().uuid("Choose the image this upload is a version of.").optional()),
  image: z.preprocess(blankToUndefined, slugSchema.optional()),
  version: z
    .preprocess(blankToUndefined, versionLabelSchema.optional())
    .pipe(z.string({ message: "Enter a version for this upload." })),
  format: z.preprocess(
    blankToUndefined,
    z
      .enum(["detect", ...diskFormats], { message: `The claimed format is one of: detect, ${diskFormats.join(", ")}.` })
      .default("detect"),
  ),
  sha256: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[0-9a-f]{64}$/, "The expected sha256 is 64 hexadecimal characters.")
      .optional(),
  ),
  filename: z.preprocess(blankToUndefined, z.string().max(255, "The file name is too long.").default("")),
});

const sha256Hex = /^[0-9a-f]{64}$/;

// What a tus hook throws to refuse a request: the status and the JSON error body every route sends.
const httpError = (code: ErrorCode, message: string) => ({
  status_code: httpStatusOf(code),
  body: JSON.stringify(errorBody(code, message)),
});

const progressWrites = new Map<string, number>();

/** Who an upload is from: a write-scoped API token (the CLI's push), or else the browser's session cookie. */
export function uploadViewerOf(request: Request, { secret }: { secret: string }): Promise<Viewer | null> {
  const authorization = request.headers.get("authorization");
  if (authorization === null) return viewerFromSessionCookie({ headers: request.headers, secret });
  return viewerFromAuthorization(authorization, {
    address: clientAddressOf(request),
    need: "write",
    what: "uploading",
  });
}

export interface UploadServerDeps {
  viewerOf(request: Request): Promise<Viewer | null>;
  /** How long a process that holds an upload counts as alive after its last heartbeat (tests shorten it). */
  leaseSeconds?: number;
}

/** How long a client is told to wait while another process holds the upload. */
const LOCKED_RETRY_SECONDS = 2;

export function createUploadServer(deps: UploadServerDeps) {
  const directory = path.join(env().dataDir, "uploads");
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  startHashThreads();
  const versionOf = new Map<string, string>();
  const leaseSeconds = deps.leaseSeconds ?? PROCESS_LEASE_SECONDS;
  // With blobs in a bucket, any process can resume an upload; with the local store, only this one.
  const bucket = env().HANGAR_BLOB_STORE === "s3" ? (getBlobStore() as S3BlobStore) : null;
  // Requests that hold their upload (in PostgreSQL) until they are answered.
  const holding = new WeakMap<object, string>();
  const store = new IngestingFileStore(
    directory,
    {
      async claimedFormatOf(uploadId) {
        const upload = await getUpload({ id: uploadId });
        return upload?.claimedFormat ?? null;
      },
      onProgress(uploadId, bytes) {
        // Progress reaches the database at most once a second per upload.
        const now = Date.now();
        if (now - (progressWrites.get(uploadId) ?? 0) < 1000) return;
        progressWrites.set(uploadId, now);
        const versionId = versionOf.get(uploadId);
        if (versionId) void recordImportProgress({ versionId, uploadId, bytesReceived: bytes }).catch(() => {});
      },
    },
    UPLOAD_EXPIRY_MS,
    bucket,
  );

  const server = new Server({
    path: UPLOAD_ROUTE,
    datastore: store,
    maxSize: MAX_UPLOAD_BYTES,
    relativeLocation: true,
    // Uploads come from Hangar's own pages, which need no CORS; left unset, tus answers every
    // origin with `Access-Control-Allow-Origin: *`. No origin is allowed cross-origin.
    allowedOrigins: () => false,
    namingFunction: () => randomBytes(16).toString("hex"),
    // A hook that ran into a database outage is the same clear 503 as the HTTP server's gate gives.
    onResponseError(_request, error) {
      if (error instanceof HangarError) return httpError(error.code, error.message);
      if (isConnectionError(error))
        return { status_code: httpStatusOf("database_unavailable"), body: JSON.stringify(databaseUnavailableBody()) };
    },
    async onIncomingRequest(request, uploadId) {
      const viewer = await deps.viewerOf(request as unknown as Request);
      if (!viewer)
        throw httpError(
          "unauthenticated",
          "Your session has ended. Sign in again; the upload resumes where it stopped.",
        );
      if (request.method === "POST") return;
      const upload = await getUploadForUser({ id: uploadId, userId: viewer.id });
      if (!upload) throw httpError("not_found", "There is no such upload.");
      versionOf.set(uploadId, upload.versionId);
      if (upload.status !== "active")
        throw httpError("gone", `This upload has already ${upload.status === "completed" ? "finished" : "ended"}.`);
      if (upload.expiresAt.getTime() < Date.now())
        throw httpError("gone", "This upload expired after 24 hours without finishing; start it again.");
      // A DELETE needs no spool: the upload's objects go as orphans once it is no longer active.
      if (!bucket || (request.method !== "HEAD" && request.method !== "PATCH")) return;
      const held = await holdUpload({ id: uploadId, processId: currentProcessId(), leaseSeconds });
      if (!held)
        throw httpError(
          "locked",
          "Another server process is receiving this upload right now; try again in a moment (the upload resumes where it stopped).",
        );
      holding.set(request, uploadId);
      await store.adopt(uploadId, held);
    },
    async onUploadCreate(request, upload) {
      const viewer = await deps.viewerOf(request as unknown as Request);
      if (!viewer) throw httpError("unauthenticated", "Sign in to upload.");
      if (upload.size === undefined)
        throw httpError("invalid", "Tell the server the file's size (Upload-Length) when starting the upload.");
      const parsed = metadataSchema.safeParse(upload.metadata ?? {});
      if (!parsed.success)
        throw httpError("invalid", parsed.error.issues[0]?.message ?? "The upload's details are not valid.");
      const metadata = parsed.data;
      if (!metadata.imageId && !metadata.image)
        throw httpError("invalid", "Choose the image this upload is a version of.");
      try {
        const created = await createImportVersion({
          viewer,
          imageId: metadata.imageId,
          imageSlug: metadata.image,
          version: metadata.version,
          source: "upload",
          declaredLength: upload.size,
          claimedFormat: metadata.format === "detect" ? null : metadata.format,
          expectedSha256: metadata.sha256 || null,
          filename: metadata.filename,
          upload: { id: upload.id, expiresAt: new Date(Date.now() + UPLOAD_EXPIRY_MS) },
        });
        versionOf.set(upload.id, created.versionId);
        return { metadata: { ...upload.metadata, versionId: created.versionId, imageSlug: created.imageSlug } };
      } catch (error) {
        if (error instanceof AccessDenied)
          throw httpError(
            "forbidden",
            "You can't add versions to that image: it doesn't exist, or you are not a member of its project.",
          );
        // `invalid` from createImportVersion is the quota refusal: the declared file is too large.
        if (error instanceof HangarError)
          throw httpError(error.code === "invalid" ? "too_large" : error.code, error.message);
        throw error;
      }
    },
    async onUploadFinish(request, upload) {
      const tempPath = store.pathOf(upload.id);
      // The last megabytes reach the disk while the hashes finish and the checks run; the blob
      // store's fsync then finds little left to do.
      void flushToDisk(tempPath);
      const viewer = await deps.viewerOf(request as unknown as Request);
      const session = await getUpload({ id: upload.id });
      if (!session) throw httpError("not_found", "There is no such upload.");
      // Given when the upload started, with the last part, or both: the file must match each.
      const declared = [session.expectedSha256, request.headers.get(EXPECTED_SHA256_HEADER)?.trim().toLowerCase()];
      await startUploadFinalisation({
        uploadId: upload.id,
        versionId: session.versionId,
        processId: currentProcessId(),
      });
      // Trust the live session only if it saw exactly the bytes on disk; otherwise re-read them.
      const live = store.takeSession(upload.id);
      if (live && live.bytes !== upload.offset) live.abort();
      const ingest =
        live && live.bytes === upload.offset
          ? live
          : await IngestSession.fromFile(tempPath, upload.offset, session.claimedFormat);
      try {
        const ingested = await ingest.finish();
        if (bucket && !store.isShipped(upload.id))
          throw new Error(`upload ${upload.id} ended without its object complete in the bucket`);
        const result = await finalizeImport({
          versionId: session.versionId,
          uploadId: upload.id,
          actorId: viewer?.id ?? session.userId,
          tempPath,
          storedObject: bucket
            ? {
                key: uploadObjectKey(upload.id),
                remove: () => bucket.deleteUploadObject({ uploadId: upload.id }),
              }
            : undefined,
          ingest: ingested,
          expectedSha256:
            declared.find((sha256) => sha256 && sha256 !== ingested.sha256) ?? declared.find(Boolean) ?? null,
          quotaBytes: (await getProjectQuota({ projectId: session.projectId })) ?? 0,
        });
        await store.configstore.delete(upload.id);
        return { status_code: 204, headers: { "Hangar-Sha256": result.sha256 } };
      } catch (error) {
        await store.configstore.delete(upload.id).catch(() => {});
        if (error instanceof ImportRefused) throw httpError("refused", error.reason);
        throw error;
      } finally {
        store.forget(upload.id);
        progressWrites.delete(upload.id);
        versionOf.delete(upload.id);
      }
    },
  });

  server.on(EVENTS.POST_TERMINATE, (_request, _response, uploadId) => {
    void (async () => {
      const session = await getUpload({ id: uploadId });
      if (session)
        await failImport({
          versionId: session.versionId,
          uploadId,
          actorId: session.userId,
          reason: "The upload was cancelled.",
          status: "cancelled",
        });
    })();
  });

  // tus answers an unexpected content type with 400; the protocol's 415 is clearer, so say it first.
  const handle = async (request: Request): Promise<Response> => {
    if (request.method === "PATCH" && request.headers.get("content-type") !== "application/offset+octet-stream") {
      return errorResponse("unsupported_media_type", "Upload data must be sent as application/offset+octet-stream.", {
        headers: { "Tus-Resumable": "1.0.0" },
      });
    }
    const expected = request.headers.get(EXPECTED_SHA256_HEADER);
    if (request.method === "PATCH" && expected !== null && !sha256Hex.test(expected.trim().toLowerCase())) {
      return errorResponse(
        "invalid",
        `${EXPECTED_SHA256_HEADER} is 64 hexadecimal characters: the whole file's sha256.`,
        {
          headers: { "Tus-Resumable": "1.0.0" },
        },
      );
    }
    let response: Response;
    try {
      response = await server.handleWeb(request);
    } finally {
      const held = holding.get(request);
      if (held) await releaseUpload({ id: held, processId: currentProcessId() }).catch(() => {});
    }
    if (response.status === httpStatusOf("locked")) {
      const headers = new Headers(response.headers);
      headers.set("Retry-After", String(LOCKED_RETRY_SECONDS));
      return new Response(response.body, { status: response.status, headers });
    }
    const location = response.headers.get("location");
    const created = request.method === "POST" && response.status === 201 && location;
    const versionId = created ? versionOf.get(location.split("/").pop() ?? "") : undefined;
    if (!versionId) return response;
    const headers = new Headers(response.headers);
    headers.set(VERSION_ID_HEADER, versionId);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };

  /** The HTTP server's entry point: the same handler, with the body read straight off the socket. */
  const handleNode = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method === "PATCH") res.once("close", uploadStarted());
    const response = await handle(requestFromNode(req, res));
    // Answered before the body was read (a refusal): the rest of it is not wanted on this connection.
    if (!req.complete) res.once("finish", () => req.destroy());
    res.writeHead(response.status, [...response.headers].flat());
    if (response.body) await pipeline(Readable.fromWeb(response.body as WebReadableStream), res);
    else res.end();
  };

  return { server, store, handle, handleNode };
}

// Bytes the body stream holds before the socket is paused.
const BODY_BUFFER_BYTES = 1024 * 1024;

/**
 * A web Request over a Node request, its body read straight off the socket. The socket's 64 KiB
 * reads are passed on as they come. Gathering them into 1 MiB batches (one more copy, and a fresh
 * megabyte buffer each time) paid off while every chunk also crossed a Transform and a write
 * stream; now each is only copied into the ingest ring, and the batches were what piled up as
 * garbage: the server grew by 55 and 149 MiB during a 2 GiB upload in two runs, against 35 and 34
 * without, at the same upload rate. Backpressure holds: the socket pauses while a megabyte waits.
 */
function requestFromNode(req: http.IncomingMessage, res: http.ServerResponse): Request {
  const headers = new Headers();
  for (let index = 0; index < req.rawHeaders.length; index += 2)
    headers.append(req.rawHeaders[index]!, req.rawHeaders[index + 1]!);
  let body: ReadableStream<Uint8Array> | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    let settled = false;
    body = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          req.on("data", (chunk: Buffer) => {
            if (settled) return;
            uploadBytesReceived(chunk.byteLength);
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) req.pause();
          });
          req.once("end", () => {
            if (settled) return;
            settled = true;
            controller.close();
          });
          // A client that goes away mid-body ends the stream with an error, as tus expects.
          const fail = (error?: Error) => {
            if (settled) return;
            settled = true;
            controller.error(error ?? new Error("the client closed the connection before the body ended"));
          };
          req.once("error", fail);
          req.once("close", () => fail());
        },
        pull() {
          req.resume();
        },
        cancel() {
          settled = true;
        },
      },
      { highWaterMark: BODY_BUFFER_BYTES, size: (chunk) => chunk.byteLength },
    );
  }
  const request = new Request(new URL(req.url ?? "/", "http://localhost"), {
    method: req.method,
    headers,
    body,
    duplex: "half",
  } as RequestInit);
  // tus's own Node adapter (srvx) exposes the Node objects like this; tus then aborts on a socket error.
  return Object.assign(request, { runtime: { name: "node", node: { req, res } } });
}

export const isUploadPath = (pathname: string) => pathname === UPLOAD_ROUTE || pathname.startsWith(`${UPLOAD_ROUTE}/`);
