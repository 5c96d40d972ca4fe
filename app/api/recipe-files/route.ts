import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { attachRecipeFile, requireAttachAccess } from "@/db/queries/recipes";
import { isUuid } from "@/lib/ids";
import { errorResponse, withRouteErrors } from "@/lib/errors";
import { getViewer } from "@/lib/auth/session";
import { env } from "@/lib/env";
import { MAX_UPLOAD_FILE_BYTES } from "@/lib/recipes/steps";
import { storeBlob } from "@/lib/processes/blob-writes";
import { createTempPath, hashFile } from "@/lib/storage";

// Files for "upload a file" steps: the body streams to a private temp file (never through a
// server action), is hashed, stored once by sha256 and attached to the recipe's project.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const tooLarge = () =>
  errorResponse(
    "too_large",
    `A recipe file is at most ${MAX_UPLOAD_FILE_BYTES / 1024 ** 2} MiB; put larger content in an image instead.`,
  );

class TooLarge extends Error {}

export const POST = withRouteErrors(
  async (request: Request) => {
    const viewer = await getViewer();
    if (!viewer) return errorResponse("unauthenticated", "Your session has ended. Sign in again to continue.");
    const url = new URL(request.url);
    const projectId = url.searchParams.get("projectId") ?? "";
    const filename = (url.searchParams.get("filename") ?? "").slice(0, 255);
    if (!isUuid(projectId)) return errorResponse("invalid", "Say which project the file is for.");
    requireAttachAccess(viewer, projectId);
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > MAX_UPLOAD_FILE_BYTES) return tooLarge();
    if (!request.body) return errorResponse("invalid", "The request has no file in it.");
    const tempPath = await createTempPath({ root: env().dataDir, prefix: "recipe-file" });
    let received = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > MAX_UPLOAD_FILE_BYTES) callback(new TooLarge());
        else callback(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(request.body as WebReadableStream<Uint8Array>),
        limit,
        createWriteStream(tempPath, { mode: 0o600 }),
      );
      const hashes = await hashFile(tempPath);
      // Stored first, then recorded: a row never points at a missing file, and the write's record
      // keeps other processes' orphan sweeps off the bytes until the row is there.
      await storeBlob({ tempPath, sha256: hashes.sha256, size: hashes.size }, () =>
        attachRecipeFile({ viewer, projectId, file: { ...hashes, filename } }),
      );
      return Response.json({ sha256: hashes.sha256, size: hashes.size, filename }, { status: 201 });
    } catch (error) {
      await rm(tempPath, { force: true });
      if (error instanceof TooLarge) return tooLarge();
      throw error;
    }
  },
  { internalMessage: "The file could not be stored; nothing was kept. Try again." },
);
