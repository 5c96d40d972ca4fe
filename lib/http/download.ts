// A version's file (or a finished conversion of it) as an HTTP answer, with ranges, ETag and
// If-Range, for whoever the route decided the caller is: the page's session or an API token.
import { Readable } from "node:stream";
import { z } from "zod";
import { getConversion, getDownloadableVersion } from "@/db/queries/versions";
import { diskFormats } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { errorResponse } from "@/lib/errors";
import { blobRedirectUrl, getBlobStore } from "@/lib/storage";
import { contentDisposition, parseRange } from "./range";
import { BLOB_SENDER_HEADER, nameBlob, SEND_BLOB_HEADER, type NamedBlob } from "./send-file";

const querySchema = z.object({ format: z.enum(diskFormats).optional() });

export async function downloadResponse({
  request,
  viewer,
  versionId,
}: {
  request: Request;
  viewer: Viewer;
  versionId: string;
}): Promise<Response> {
  if (!z.string().uuid().safeParse(versionId).success)
    return errorResponse("not_found", "That version doesn't exist, or you can't see it.");
  const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return errorResponse("invalid", `The format is one of: ${diskFormats.join(", ")}.`);
  const version = await getDownloadableVersion({ viewer, versionId });
  if (!version) return errorResponse("not_found", "That version doesn't exist, isn't ready, or you can't see it.");

  let sha256 = version.sha256;
  let size = version.fileSize;
  let format = version.format;
  // A linked clone's own file names its base as backing file: it leaves only flattened.
  const wanted = query.data.format ?? version.format;
  if (wanted !== version.format || version.linked) {
    const conversion = await getConversion({ versionId: version.id, targetFormat: wanted });
    if (!conversion || conversion.status !== "succeeded" || !conversion.sha256 || conversion.fileSize === null) {
      const what =
        version.linked && wanted === version.format ? `a self-contained (flattened) ${wanted} file` : `${wanted}`;
      return errorResponse(
        "conflict",
        `This version has not been converted to ${what} yet. Request the conversion on the version's page and download it when it's done.`,
      );
    }
    sha256 = conversion.sha256;
    size = conversion.fileSize;
    format = wanted;
  }

  return blobResponse({
    request,
    sha256,
    size,
    filename: `${version.imageSlug}-${version.version}.${format}`,
    cacheControl: "private, max-age=0, must-revalidate",
  });
}

/**
 * The answer's body: named for a server that sends blobs itself (lib/http/send-file.ts; for HEAD too, as
 * Next.js drops a route's Content-Length and the server puts it back), else streamed.
 */
async function blobBody(
  request: Request,
  blob: NamedBlob,
  init: { status: number; headers: Headers },
): Promise<Response> {
  if (request.headers.get(BLOB_SENDER_HEADER) === "1") {
    init.headers.set(SEND_BLOB_HEADER, nameBlob(blob));
    return new Response(null, init);
  }
  if (request.method === "HEAD") return new Response(null, init);
  const body = await getBlobStore().createReadStream(blob.sha256, { start: blob.start, end: blob.end });
  return new Response(Readable.toWeb(body as Readable) as ReadableStream, init);
}

/**
 * A stored blob as an HTTP answer: 200 with the whole file (HEAD: its headers only), 206 for a
 * satisfiable Range (If-Range by the ETag, which is the quoted sha256), 304, 416; for a GET with
 * HANGAR_S3_DOWNLOADS=redirect, 307 to a presigned URL of the object. Every download (pages, the
 * API, platform feeds) answers through here, after the caller decided who may have it.
 */
export async function blobResponse({
  request,
  sha256,
  size,
  filename,
  cacheControl,
  extraHeaders = {},
}: {
  request: Request;
  sha256: string;
  size: number;
  filename: string;
  cacheControl: string;
  extraHeaders?: Record<string, string>;
}): Promise<Response> {
  const etag = `"${sha256}"`;
  const headers = new Headers({
    "Accept-Ranges": "bytes",
    ETag: etag,
    "Content-Type": "application/octet-stream",
    "Content-Disposition": contentDisposition(filename),
    "Cache-Control": cacheControl,
    ...extraHeaders,
  });
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  const ifRange = request.headers.get("if-range");
  const range =
    ifRange && ifRange !== etag ? { kind: "full" as const } : parseRange(request.headers.get("range"), size);
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  // GET with HANGAR_S3_DOWNLOADS=redirect: the bucket sends the bytes (the caller's Range goes along),
  // named and typed as here. HEAD, 304 and 416 stay Hangar's, and so does an If-Range that no longer
  // matches (the bucket's own ETag is not the sha256, so it could not judge it).
  if (request.method === "GET" && size > 0 && (!ifRange || ifRange === etag)) {
    const location = await blobRedirectUrl(sha256, {
      contentDisposition: headers.get("Content-Disposition")!,
      contentType: headers.get("Content-Type")!,
      cacheControl,
    });
    if (location)
      return new Response(null, {
        status: 307,
        // The URL expires: neither the answer nor the URL may be kept.
        headers: { Location: location, "Cache-Control": "private, no-store", ETag: etag },
      });
  }
  if (range.kind === "partial") {
    headers.set("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    headers.set("Content-Length", String(range.end - range.start + 1));
    return blobBody(request, { sha256, start: range.start, end: range.end }, { status: 206, headers });
  }
  headers.set("Content-Length", String(size));
  // An empty blob is a 200 with no body; a stream of it is not worth opening.
  if (size === 0) return new Response(null, { status: 200, headers });
  return blobBody(request, { sha256, start: 0, end: size - 1 }, { status: 200, headers });
}
