import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { blobs, images, imageVersions, projects, uploads } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { env } from "@/lib/env";
import { qemuImgCreate } from "@/lib/images/qemu-img";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { metricsText } from "@/lib/observability/metrics";
import { issueApiToken } from "@/lib/api/tokens";
import { createUploadServer, uploadViewerOf } from "./tus";
import { EXPECTED_SHA256_HEADER, VERSION_ID_HEADER } from "./upload-protocol";

let owner: Viewer;
let stranger: Viewer;
let imageId: string;
let projectId: string;
let qcow2: Buffer;
let raw: Buffer;
let current: Viewer | null = null;
const { handle, handleNode } = createUploadServer({ viewerOf: async () => current });

const base = "http://hangar.test/api/uploads";
const b64 = (value: string) => Buffer.from(value).toString("base64");

function metadata(fields: Record<string, string>) {
  return Object.entries(fields)
    .map(([key, value]) => `${key} ${b64(value)}`)
    .join(",");
}

async function create(length: number, fields: Record<string, string> = {}, as: Viewer | null = owner) {
  current = as;
  const response = await handle(
    new Request(base, {
      method: "POST",
      headers: {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": String(length),
        "Upload-Metadata": metadata({ imageId, version: unique("v"), ...fields }),
      },
    }),
  );
  const location = response.headers.get("location");
  return { response, id: location?.split("/").pop() ?? "", body: await response.text() };
}

async function patch(
  id: string,
  offset: number,
  body: Uint8Array | ReadableStream,
  as: Viewer | null = owner,
  contentType = "application/offset+octet-stream",
  extraHeaders: Record<string, string> = {},
) {
  current = as;
  const response = await handle(
    new Request(`${base}/${id}`, {
      method: "PATCH",
      headers: {
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": String(offset),
        "Content-Type": contentType,
        ...extraHeaders,
      },
      body: body instanceof Uint8Array ? new Uint8Array(body) : body,
      duplex: "half",
    } as RequestInit),
  );
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function head(id: string, as: Viewer | null = owner) {
  current = as;
  const response = await handle(
    new Request(`${base}/${id}`, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } }),
  );
  return { status: response.status, offset: Number(response.headers.get("upload-offset")) };
}

async function versionOf(uploadId: string) {
  const [upload] = await db()
    .select({ versionId: uploads.versionId, status: uploads.status })
    .from(uploads)
    .where(eq(uploads.id, uploadId));
  const [version] = await db()
    .select({
      dataStatus: imageVersions.dataStatus,
      failureReason: imageVersions.failureReason,
      format: imageVersions.format,
      sha256: imageVersions.sha256,
      sha512: imageVersions.sha512,
      virtualSize: imageVersions.virtualSize,
      fileSize: imageVersions.fileSize,
      inspection: imageVersions.inspection,
    })
    .from(imageVersions)
    .where(eq(imageVersions.id, upload!.versionId));
  return { upload: upload!, version: version! };
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const tempFileExists = (id: string) => existsSync(path.join(env().dataDir, "uploads", id));

beforeAll(async () => {
  owner = await createTestUser();
  stranger = await createTestUser();
  const project = await createTestProject({ members: [{ viewer: owner, role: "member" }] });
  projectId = project.id;
  imageId = (await createTestImage({ projectId, versions: [] })).id;
  const work = await mkdtemp(path.join(os.tmpdir(), "hangar-tus-"));
  const guest = await buildTinyGuest({ dir: work, name: "tus-test", formats: ["raw", "qcow2"], sizeMiB: 16 });
  qcow2 = await readFile(guest.qcow2!);
  raw = await readFile(guest.raw);
});

describe("tus uploads", () => {
  it("takes a file in several PATCHes and makes a ready version with hashes, format and size from the bytes", async () => {
    const { response, id } = await create(qcow2.length, { format: "qcow2", filename: "disk.qcow2" });
    expect(response.status).toBe(201);
    const third = Math.floor(qcow2.length / 3);
    expect((await patch(id, 0, qcow2.subarray(0, third))).status).toBe(204);
    expect(await head(id)).toEqual({ status: 200, offset: third });
    expect((await patch(id, third, qcow2.subarray(third, 2 * third))).status).toBe(204);
    const last = await patch(id, 2 * third, qcow2.subarray(2 * third));
    expect(last.status).toBe(204);
    const { upload, version } = await versionOf(id);
    expect(response.headers.get(VERSION_ID_HEADER)).toBe(upload.versionId);
    expect(upload.status).toBe("completed");
    expect(version).toMatchObject({
      dataStatus: "ready",
      format: "qcow2",
      sha256: sha256(qcow2),
      fileSize: qcow2.length,
      virtualSize: 16 * 1024 * 1024,
    });
    expect(version.sha512).toBe(createHash("sha512").update(qcow2).digest("hex"));
    expect(version.inspection).toMatchObject({ format: "qcow2", safe: true });
    expect(await getBlobStore().stat(sha256(qcow2))).toEqual({ size: qcow2.length });
    expect(tempFileExists(id)).toBe(false);
  });

  it("counts the bytes that arrive through the HTTP server's upload path, and the uploads in flight", async () => {
    const sample = async (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, "m").exec((await metricsText()).body)?.[1] ?? NaN);
    const before = await sample("hangar_upload_bytes_received_total");
    const server = http.createServer((req, res) => void handleNode(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { id } = await create(qcow2.length, { format: "qcow2" });
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/uploads/${id}`, {
        method: "PATCH",
        headers: {
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": "0",
          "Content-Type": "application/offset+octet-stream",
        },
        body: new Uint8Array(qcow2),
      });
      expect(response.status).toBe(204);
      expect((await sample("hangar_upload_bytes_received_total")) - before).toBe(qcow2.length);
      expect(await sample("hangar_uploads_in_flight")).toBe(0);
    } finally {
      server.close();
    }
  });

  it("stores the same bytes once, and takes empty optional fields as not given", async () => {
    const again = await create(qcow2.length, { sha256: "", format: "", filename: "" });
    expect((await patch(again.id, 0, qcow2)).status).toBe(204);
    const { version } = await versionOf(again.id);
    expect(version).toMatchObject({ dataStatus: "ready", format: "qcow2", sha256: sha256(qcow2) });
    expect(
      await db()
        .select()
        .from(blobs)
        .where(eq(blobs.sha256, sha256(qcow2))),
    ).toHaveLength(1);
  });

  it("resumes after a connection drops mid-way, with hashes of exactly the bytes received", async () => {
    const { id } = await create(raw.length, { format: "raw" });
    const half = Math.floor(raw.length / 2);
    const broken = new ReadableStream({
      start(controller) {
        controller.enqueue(raw.subarray(0, half));
        controller.error(new Error("connection reset"));
      },
    });
    const dropped = await patch(id, 0, broken);
    expect(dropped.status).toBeGreaterThanOrEqual(400);
    const { offset } = await head(id);
    expect(offset).toBeLessThanOrEqual(half);
    expect((await patch(id, offset, raw.subarray(offset))).status).toBe(204);
    const { version } = await versionOf(id);
    expect(version).toMatchObject({ dataStatus: "ready", format: "raw", sha256: sha256(raw), virtualSize: raw.length });
  });

  it("resumes on a restarted server, rebuilding hashes and inspection from the bytes on disk", async () => {
    const { id } = await create(qcow2.length, { format: "qcow2" });
    const half = Math.floor(qcow2.length / 2);
    expect((await patch(id, 0, qcow2.subarray(0, half))).status).toBe(204);
    // A new server instance has none of the old one's in-memory state, as after a restart.
    const restarted = createUploadServer({ viewerOf: async () => owner });
    const response = await restarted.handle(
      new Request(`${base}/${id}`, {
        method: "PATCH",
        headers: {
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": String(half),
          "Content-Type": "application/offset+octet-stream",
        },
        body: new Uint8Array(qcow2.subarray(half)),
        duplex: "half",
      } as RequestInit),
    );
    expect(response.status).toBe(204);
    const { version } = await versionOf(id);
    expect(version).toMatchObject({ dataStatus: "ready", format: "qcow2", sha256: sha256(qcow2) });
    expect(version.sha512).toBe(createHash("sha512").update(qcow2).digest("hex"));
  });

  it("cancels an upload: the bytes go and the version says so", async () => {
    const { id } = await create(raw.length);
    await patch(id, 0, raw.subarray(0, 4096));
    current = owner;
    const response = await handle(
      new Request(`${base}/${id}`, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0" } }),
    );
    expect(response.status).toBe(204);
    expect(tempFileExists(id)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { upload, version } = await versionOf(id);
    expect(upload.status).toBe("cancelled");
    expect(version).toMatchObject({ dataStatus: "failed", failureReason: "The upload was cancelled." });
  });

  it("answers a wrong offset with 409 and changes nothing", async () => {
    const { id } = await create(raw.length);
    expect((await patch(id, 0, raw.subarray(0, 1000))).status).toBe(204);
    expect((await patch(id, 5000, raw.subarray(5000, 6000))).status).toBe(409);
    expect((await patch(id, 0, raw.subarray(0, 1000))).status).toBe(409);
    expect((await head(id)).offset).toBe(1000);
  });

  it("refuses a wrong content type with 415", async () => {
    const { id } = await create(raw.length);
    expect((await patch(id, 0, raw.subarray(0, 100), owner, "application/json")).status).toBe(415);
    expect((await head(id)).offset).toBe(0);
  });

  it("refuses bytes past the declared length", async () => {
    const { id } = await create(1000);
    const result = await patch(id, 0, raw.subarray(0, 2000));
    expect([400, 413]).toContain(result.status);
    const { version } = await versionOf(id);
    expect(version.dataStatus).not.toBe("ready");
  });

  it("hides an upload from everyone but its creator", async () => {
    const { id } = await create(raw.length);
    expect((await head(id, stranger)).status).toBe(404);
    expect((await patch(id, 0, raw.subarray(0, 100), stranger)).status).toBe(404);
    expect((await head(id, null)).status).toBe(401);
    expect((await head(id)).offset).toBe(0);
  });

  it("refuses to create uploads for images the caller can't write to, or without a session", async () => {
    const refused = await create(1000, {}, stranger);
    expect(refused.response.status).toBe(404);
    expect(refused.body).toMatch(/doesn't exist or you can't see it/);
    expect((await create(1000, {}, null)).response.status).toBe(401);
    expect((await create(1000, { version: "../../etc" })).response.status).toBe(400);
    expect((await create(1000, { format: "exe" })).response.status).toBe(400);
    const noVersion = await create(1000, { version: "" });
    expect(noVersion.response.status).toBe(400);
    expect(noVersion.body).toMatch(/Enter a version/);
  });

  it("takes the image by slug instead of id (the CLI's push), with the same refusals", async () => {
    const [{ slug } = { slug: "" }] = await db()
      .select({ slug: images.slug })
      .from(images)
      .where(eq(images.id, imageId));
    const bySlug = await create(raw.length, { imageId: "", image: slug });
    expect(bySlug.response.status).toBe(201);
    expect((await patch(bySlug.id, 0, raw)).status).toBe(204);
    const { upload, version } = await versionOf(bySlug.id);
    expect(version).toMatchObject({ dataStatus: "ready", sha256: sha256(raw) });
    expect(bySlug.response.headers.get(VERSION_ID_HEADER)).toBe(upload.versionId);

    const strangers = await create(1000, { imageId: "", image: slug }, stranger);
    expect(strangers.response.status).toBe(404);
    expect(strangers.body).toMatch(/doesn't exist or you can't see it/);
    expect((await create(1000, { imageId: "", image: "no-such-image" })).response.status).toBe(404);
    const neither = await create(1000, { imageId: "" });
    expect(neither.response.status).toBe(400);
    expect(neither.body).toMatch(/Choose the image/);
  });

  it("grants no other origin cross-origin access: no Access-Control-Allow-Origin, preflight included", async () => {
    current = owner;
    const foreign = "https://attacker.example";
    const preflight = await handle(
      new Request(base, {
        method: "OPTIONS",
        headers: {
          Origin: foreign,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "tus-resumable, upload-length",
        },
      }),
    );
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const { id } = await create(raw.length);
    const probe = await handle(
      new Request(`${base}/${id}`, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0", Origin: foreign } }),
    );
    expect(probe.status).toBe(200);
    expect(probe.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses an upload larger than the project's free quota before any byte arrives", async () => {
    await db()
      .update(projects)
      .set({ quotaBytes: 10 * 1024 * 1024 * 1024 })
      .where(eq(projects.id, projectId));
    const result = await create(11 * 1024 * 1024 * 1024);
    expect(result.response.status).toBe(413);
    expect(result.body).toMatch(/does not fit in the project's storage quota/);
  });

  it("fails a checksum mismatch and keeps nothing", async () => {
    const wrong = "0".repeat(64);
    const { id } = await create(raw.length, { sha256: wrong });
    const result = await patch(id, 0, raw);
    expect(result.status).toBe(422);
    expect(result.body).toMatch(/not the 0{64} you expected/);
    const { upload, version } = await versionOf(id);
    expect(upload.status).toBe("failed");
    expect(version).toMatchObject({ dataStatus: "failed", sha256: null });
    expect(tempFileExists(id)).toBe(false);
  });

  it("checks the whole file against a sha256 sent with the last part (a client that hashes while it sends)", async () => {
    const half = Math.floor(raw.length / 2);
    const finish = (id: string, sha: string) =>
      patch(id, half, raw.subarray(half), owner, undefined, { [EXPECTED_SHA256_HEADER]: sha });

    const good = await create(raw.length);
    expect((await patch(good.id, 0, raw.subarray(0, half))).status).toBe(204);
    expect((await finish(good.id, sha256(raw).toUpperCase())).status).toBe(204);
    expect((await versionOf(good.id)).version).toMatchObject({ dataStatus: "ready", sha256: sha256(raw) });

    const damaged = await create(raw.length);
    expect((await patch(damaged.id, 0, raw.subarray(0, half))).status).toBe(204);
    const refused = await finish(damaged.id, "1".repeat(64));
    expect(refused.status).toBe(422);
    expect(refused.body).toMatch(/not the 1{64} you expected/);
    expect((await versionOf(damaged.id)).version).toMatchObject({ dataStatus: "failed", sha256: null });
    expect(tempFileExists(damaged.id)).toBe(false);

    // Given at the start and at the end, the file must match both: a right one does not excuse a wrong one.
    const both = await create(raw.length, { sha256: sha256(raw) });
    expect((await patch(both.id, 0, raw.subarray(0, half))).status).toBe(204);
    expect((await finish(both.id, "2".repeat(64))).status).toBe(422);
    expect((await versionOf(both.id)).version).toMatchObject({ dataStatus: "failed" });
  });

  it("refuses a malformed sha256 on a part before taking its bytes", async () => {
    const { id } = await create(raw.length);
    const result = await patch(id, 0, raw, owner, undefined, { [EXPECTED_SHA256_HEADER]: "abc" });
    expect(result.status).toBe(400);
    expect(result.body).toMatch(/64 hexadecimal characters/);
    expect(await head(id)).toEqual({ status: 200, offset: 0 });
  });

  it("refuses a hostile file with a reason a person can act on, and keeps nothing", async () => {
    const { id } = await create(qcow2.length, { format: "raw" });
    const result = await patch(id, 0, qcow2);
    expect(result.status).toBe(422);
    const { version } = await versionOf(id);
    expect(version.dataStatus).toBe("failed");
    expect(version.failureReason).toMatch(/qcow2/i);
    expect(tempFileExists(id)).toBe(false);
  });

  it("refuses a structurally valid disk whose virtual size is above the global cap, and keeps nothing", async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), "hangar-tus-huge-"));
    const huge = path.join(work, "huge.qcow2");
    await qemuImgCreate({ path: huge, format: "qcow2", sizeBytes: 16 * 1024 ** 4 });
    const bytes = await readFile(huge);
    const { id } = await create(bytes.length, { format: "qcow2" });
    const result = await patch(id, 0, bytes);
    expect(result.status).toBe(422);
    const { version } = await versionOf(id);
    expect(version).toMatchObject({ dataStatus: "failed", sha256: null });
    expect(version.failureReason).toMatch(
      /virtual size is 16 TiB .* above the 2 TiB this Hangar accepts \(the HANGAR_MAX_VIRTUAL_SIZE setting\)/,
    );
    expect(tempFileExists(id)).toBe(false);
  });

  it("keeps the outcome consistent when two requests write the same session at once", async () => {
    const { id } = await create(raw.length);
    const results = await Promise.all([patch(id, 0, raw), patch(id, 0, raw)]);
    expect(results.map((result) => result.status)).toContain(204);
    const { version } = await versionOf(id);
    expect(version).toMatchObject({ dataStatus: "ready", sha256: sha256(raw) });
  });

  it("answers an expired upload with 410", async () => {
    const { id } = await create(raw.length);
    await db()
      .update(uploads)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(uploads.id, id));
    expect((await patch(id, 0, raw.subarray(0, 100))).status).toBe(410);
  });

  it("keeps only private temp files, named by the server", async () => {
    const { id } = await create(raw.length, { filename: "../../../etc/passwd" });
    await patch(id, 0, raw.subarray(0, 100));
    const names = await readdir(path.join(env().dataDir, "uploads"));
    expect(names).toContain(id);
    expect(names.some((name) => name.includes("passwd"))).toBe(false);
    expect((await stat(path.join(env().dataDir, "uploads", id))).mode & 0o777).toBe(0o600);
  });
});

describe("uploads with an API token (the CLI's push)", () => {
  const tokenServer = createUploadServer({ viewerOf: (request) => uploadViewerOf(request, { secret: "unused-here" }) });
  const start = (authorization: string) =>
    tokenServer.handle(
      new Request(base, {
        method: "POST",
        headers: {
          authorization,
          "Tus-Resumable": "1.0.0",
          "Upload-Length": "1024",
          "Upload-Metadata": metadata({ imageId, version: unique("v") }),
        },
      }),
    );
  const token = async (scope: "read" | "write") =>
    (await issueApiToken({ userId: owner.id, projectId: null, projectRole: null, name: scope, scope, expiresAt: null }))
      .secret;

  it("takes a write token, refuses a read token and a bad one with their reasons, and starts nothing for them", async () => {
    const before = await db().select({ id: uploads.id }).from(uploads);
    const read = await start(`Bearer ${await token("read")}`);
    expect(read.status).toBe(403);
    expect(await read.text()).toMatch(/read scope; uploading needs write/);
    const bad = await start("Bearer hgr_not-a-token");
    expect(bad.status).toBe(401);
    expect(await bad.text()).toMatch(/not a Hangar token/);
    expect(await db().select({ id: uploads.id }).from(uploads)).toHaveLength(before.length);
    const write = await start(`Bearer ${await token("write")}`);
    expect(write.status).toBe(201);
    expect(write.headers.get("location")).toMatch(/\/api\/uploads\/[0-9a-f]+$/);
  });
});
