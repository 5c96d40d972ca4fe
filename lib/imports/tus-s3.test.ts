// tus uploads with blobs in a bucket (HANGAR_BLOB_STORE=s3), against a real OpenStack Swift and
// real web processes (tests/upload-process.ts, separate OS processes with their own data
// directories): the spool is shipped as parts while it arrives, the blob row records the upload's
// object, and an upload continues on another process after its first one died or let it go.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { blobs, imageVersions, uploads } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { migrateBlobs } from "@/lib/blobs/migrate";
import { verifyBlobs } from "@/lib/blobs/verify";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { createLocalBlobStore, getBlobStore, type S3BlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { createTestBucket, sharedSwift, swiftClient, type SwiftServer } from "@/tests/swift";
import { reconcileStorage } from "./reconcile";
import { createUploadServer } from "./tus";

const MiB = 1024 * 1024;
const LEASE_SECONDS = 3;
const root = path.resolve(import.meta.dirname, "../..");

let server: SwiftServer;
let bucket: string;
let prefix: string;
let owner: Viewer;
let imageId: string;
let base: Buffer;
const children: ChildProcess[] = [];

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const b64 = (value: string) => Buffer.from(value).toString("base64");

/** The tiny guest's raw disk (48 MiB: two parts shipped while it arrives, the third at the end), made unique. */
function diskBytes(): Buffer {
  const bytes = Buffer.from(base);
  randomBytes(4096).copy(bytes, bytes.length - 4096);
  return bytes;
}

/**
 * A loopback relay to Swift that the test can take down (every connection cut, new ones refused)
 * and bring back: the object store failing mid-upload.
 */
async function switchableRelay() {
  const target = new URL(server.endpoint);
  const sockets = new Set<net.Socket>();
  let up = true;
  const relay = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`,
    down() {
      up = false;
      sockets.forEach((socket) => socket.destroy());
    },
    up() {
      up = true;
    },
  };
}

let relay: Awaited<ReturnType<typeof switchableRelay>>;

interface WebProcess {
  child: ChildProcess;
  url: string;
  processId: string;
}

async function startWebProcess(): Promise<WebProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-web-"));
  const child = spawn(process.execPath, ["--import", "tsx", "tests/upload-process.ts"], {
    cwd: root,
    env: {
      ...process.env,
      HANGAR_DATA_DIR: dataDir,
      HANGAR_S3_ENDPOINT: server.endpoint,
      UPLOAD_VIEWER: JSON.stringify(owner),
      UPLOAD_LEASE_SECONDS: String(LEASE_SECONDS),
      HANGAR_METRICS_PORT: "",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the web process exited with ${code}`)));
  });
  const { port, processId } = JSON.parse(line) as { port: number; processId: string };
  return { child, url: `http://127.0.0.1:${port}/api/uploads`, processId };
}

const tus = { "Tus-Resumable": "1.0.0" };

async function createUpload(url: string, length: number): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      ...tus,
      "Upload-Length": String(length),
      "Upload-Metadata": `imageId ${b64(imageId)},version ${b64(unique("v"))},format ${b64("raw")}`,
    },
  });
  expect(response.status).toBe(201);
  return response.headers.get("location")!.split("/").pop()!;
}

/** The status 0 stands for a connection the server closed while the body was still being sent. */
async function patch(url: string, id: string, offset: number, body: Uint8Array) {
  try {
    const response = await fetch(`${url}/${id}`, {
      method: "PATCH",
      headers: { ...tus, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
      body: new Uint8Array(body),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

async function head(url: string, id: string) {
  const response = await fetch(`${url}/${id}`, { method: "HEAD", headers: tus });
  return {
    status: response.status,
    offset: Number(response.headers.get("upload-offset")),
    retryAfter: response.headers.get("retry-after"),
  };
}

/**
 * A PATCH whose body is sent as far as `sent` bytes and then held open: the request stays in
 * flight on its process until `end()` (the body ends there: a partial PATCH) or the process dies.
 */
function openPatch(url: string, id: string, body: Buffer, sent: number) {
  const request = http.request(`${url}/${id}`, {
    method: "PATCH",
    headers: {
      ...tus,
      "Upload-Offset": "0",
      "Content-Type": "application/offset+octet-stream",
      "Content-Length": String(sent),
    },
  });
  const answered = new Promise<number>((resolve) => {
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", () => resolve(0));
  });
  request.write(body.subarray(0, sent - 1));
  return {
    answered,
    end() {
      request.end(body.subarray(sent - 1, sent));
    },
  };
}

async function uploadRow(id: string) {
  const [row] = await db().select().from(uploads).where(eq(uploads.id, id));
  const [version] = await db().select().from(imageVersions).where(eq(imageVersions.id, row!.versionId));
  return { upload: row!, version: version! };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function objectSha256(key: string): Promise<string> {
  const answer = await swiftClient(server).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("sha256");
  for await (const chunk of answer.Body as NodeJS.ReadableStream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function keysUnder(under: string): Promise<string[]> {
  const listed = await swiftClient(server).send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${under}` }),
  );
  return (listed.Contents ?? []).map((object) => object.Key!.slice(prefix.length));
}

async function multipartUploads(): Promise<string[]> {
  const listed = await swiftClient(server).send(
    new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}uploads/` }),
  );
  return (listed.Uploads ?? []).map((upload) => upload.Key!.slice(prefix.length));
}

/** Checks an upload ended ready with these bytes, its blob's object being the upload's own. */
async function expectReadyAt(id: string, bytes: Buffer) {
  const { upload, version } = await uploadRow(id);
  expect(upload.status).toBe("completed");
  expect(version).toMatchObject({ dataStatus: "ready", sha256: sha256(bytes), fileSize: bytes.length });
  const [blob] = await db()
    .select()
    .from(blobs)
    .where(eq(blobs.sha256, sha256(bytes)));
  expect(blob).toMatchObject({ objectKey: `uploads/${id}`, size: bytes.length });
  expect(await objectSha256(`${prefix}uploads/${id}`)).toBe(sha256(bytes));
  expect(await keysUnder(sha256(bytes))).toEqual([]);
  expect(await multipartUploads()).not.toContain(`uploads/${id}`);
  // Read through the store as downloads and workers do: it finds the bytes by the row.
  const store = getBlobStore();
  expect(await store.stat(sha256(bytes))).toEqual({ size: bytes.length });
  const hash = createHash("sha256");
  for await (const chunk of await store.createReadStream(sha256(bytes))) hash.update(chunk as Buffer);
  expect(hash.digest("hex")).toBe(sha256(bytes));
  // And as a redirect download does: the presigned URL names the upload's object.
  const url = await (store as S3BlobStore).presignedGetUrl(sha256(bytes), {
    expiresIn: 60,
    contentDisposition: "attachment",
    contentType: "application/octet-stream",
    cacheControl: "no-store",
  });
  expect(new URL(url).pathname).toBe(`/${bucket}/${prefix}uploads/${id}`);
  expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha256(bytes));
}

let local: ReturnType<typeof createUploadServer>;
let localUrl: string;

beforeAll(async () => {
  server = await sharedSwift();
  bucket = await createTestBucket(server, "uploads");
  prefix = `t-${randomBytes(4).toString("hex")}/`;
  relay = await switchableRelay();
  Object.assign(process.env, {
    HANGAR_BLOB_STORE: "s3",
    HANGAR_S3_ENDPOINT: relay.endpoint,
    HANGAR_S3_BUCKET: bucket,
    HANGAR_S3_REGION: server.region,
    HANGAR_S3_ACCESS_KEY_ID: server.accessKeyId,
    HANGAR_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    HANGAR_S3_PREFIX: prefix,
  });
  owner = await createTestUser();
  const project = await createTestProject({ members: [{ viewer: owner, role: "member" }] });
  imageId = (await createTestImage({ projectId: project.id, versions: [] })).id;
  const work = await mkdtemp(path.join(os.tmpdir(), "hangar-tus-s3-"));
  const guest = await buildTinyGuest({ dir: work, name: "tus-s3", formats: ["raw"], sizeMiB: 48 });
  base = await readFile(guest.raw);
  // This test process serves uploads too (through the relay), for the tests that need no second process.
  local = createUploadServer({ viewerOf: async () => owner, leaseSeconds: LEASE_SECONDS });
  const listener = http.createServer((req, res) => void local.handleNode(req, res));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  listener.unref();
  localUrl = `http://127.0.0.1:${(listener.address() as net.AddressInfo).port}/api/uploads`;
}, 300_000);

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("uploads into a bucket", () => {
  it("ships the parts while the file arrives and completes the upload's own object: no copy, no put", async () => {
    const bytes = diskBytes();
    const id = await createUpload(localUrl, bytes.length);
    expect(await multipartUploads()).toContain(`uploads/${id}`);
    expect((await patch(localUrl, id, 0, bytes.subarray(0, 40 * MiB))).status).toBe(204);
    // Two whole parts are in the bucket; the rest of the spool waits for more bytes.
    expect((await uploadRow(id)).upload.durableBytes).toBe(32 * MiB);
    expect(await head(localUrl, id)).toMatchObject({ status: 200, offset: 40 * MiB });
    expect((await patch(localUrl, id, 40 * MiB, bytes.subarray(40 * MiB))).status).toBe(204);
    await expectReadyAt(id, bytes);
  });

  it("keeps the same bytes once: a second upload of them leaves no object behind", async () => {
    const bytes = diskBytes();
    const first = await createUpload(localUrl, bytes.length);
    expect((await patch(localUrl, first, 0, bytes)).status).toBe(204);
    const second = await createUpload(localUrl, bytes.length);
    expect((await patch(localUrl, second, 0, bytes)).status).toBe(204);
    expect((await uploadRow(second)).version).toMatchObject({ dataStatus: "ready", sha256: sha256(bytes) });
    await expectReadyAt(first, bytes);
    expect(await keysUnder(`uploads/${second}`)).toEqual([]);
    expect(await multipartUploads()).not.toContain(`uploads/${second}`);
  });

  it("stays resumable when the object store fails mid-upload and at the last byte", async () => {
    const bytes = diskBytes();
    const id = await createUpload(localUrl, bytes.length);
    relay.down();
    try {
      const failed = await patch(localUrl, id, 0, bytes.subarray(0, 40 * MiB));
      expect(failed.status).toBe(500);
    } finally {
      relay.up();
    }
    // The bytes that arrived are in this process's spool: the client goes on from there.
    const { offset } = await head(localUrl, id);
    expect(offset).toBeGreaterThan(0);
    expect((await patch(localUrl, id, offset, bytes.subarray(offset, 44 * MiB))).status).toBe(204);
    expect((await uploadRow(id)).upload.durableBytes).toBe(32 * MiB);
    relay.down();
    try {
      expect((await patch(localUrl, id, 44 * MiB, bytes.subarray(44 * MiB))).status).toBe(500);
    } finally {
      relay.up();
    }
    // Not finished without its object: the offset goes back to what the bucket holds.
    expect(await head(localUrl, id)).toMatchObject({ status: 200, offset: 32 * MiB });
    expect((await uploadRow(id)).version.dataStatus).toBe("uploading");
    expect((await patch(localUrl, id, 32 * MiB, bytes.subarray(32 * MiB))).status).toBe(204);
    await expectReadyAt(id, bytes);
  });

  it("continues on another web process after the first was SIGKILLed mid-upload", async () => {
    const [first, second] = [await startWebProcess(), await startWebProcess()];
    const bytes = diskBytes();
    const id = await createUpload(first.url, bytes.length);
    const inFlight = openPatch(first.url, id, bytes, 44 * MiB);
    await waitFor(
      async () => (await uploadRow(id)).upload,
      (upload) => upload.durableBytes === 32 * MiB && upload.processId === first.processId,
    );
    first.child.kill("SIGKILL");
    await inFlight.answered;
    // Until the dead process's lease runs out, the other one says "locked, try again" (tus retries on 423).
    const locked = await head(second.url, id);
    expect(locked).toMatchObject({ status: 423, retryAfter: "2" });
    const resumed = await waitFor(
      () => head(second.url, id),
      (answer) => answer.status !== 423,
    );
    expect(resumed).toMatchObject({ status: 200, offset: 32 * MiB });
    expect((await patch(second.url, id, 32 * MiB, bytes.subarray(32 * MiB))).status).toBe(204);
    await expectReadyAt(id, bytes);
  }, 180_000);

  it("never races a live process's request: 423 while it receives, then the other process goes on", async () => {
    const [first, second] = [await startWebProcess(), await startWebProcess()];
    const bytes = diskBytes();
    const id = await createUpload(first.url, bytes.length);
    const inFlight = openPatch(first.url, id, bytes, 20 * MiB);
    await waitFor(
      async () => (await uploadRow(id)).upload,
      (upload) => upload.durableBytes === 16 * MiB && upload.processId === first.processId,
    );
    expect(await head(second.url, id)).toMatchObject({ status: 423, retryAfter: "2" });
    expect(await patch(second.url, id, 16 * MiB, bytes.subarray(16 * MiB, 17 * MiB))).toMatchObject({ status: 423 });
    inFlight.end();
    expect(await inFlight.answered).toBe(204);
    expect((await uploadRow(id)).upload.processId).toBeNull();
    // Let go between requests: the other process takes it from what the bucket holds.
    expect(await head(second.url, id)).toMatchObject({ status: 200, offset: 16 * MiB });
    expect((await patch(second.url, id, 16 * MiB, bytes.subarray(16 * MiB))).status).toBe(204);
    await expectReadyAt(id, bytes);
    first.child.kill("SIGTERM");
    second.child.kill("SIGTERM");
  }, 180_000);

  it("verify finds blobs by their upload's object, reports and reconciliation removes stray upload objects, migrate copies them", async () => {
    const bytes = diskBytes();
    const id = await createUpload(localUrl, bytes.length);
    expect((await patch(localUrl, id, 0, bytes)).status).toBe(204);
    const stray = `uploads/${unique("stray").replace(/[^0-9a-zA-Z_-]/g, "")}`;
    await swiftClient(server).send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${stray}`, Body: Buffer.from("left behind") }),
    );
    // An upload that ended unfinished (as the expiry sweep ends one) leaves its multipart upload behind.
    const abandoned = await createUpload(localUrl, bytes.length);
    expect((await patch(localUrl, abandoned, 0, bytes.subarray(0, 20 * MiB))).status).toBe(204);
    await db().update(uploads).set({ status: "failed" }).where(eq(uploads.id, abandoned));
    const store = getBlobStore() as S3BlobStore;
    const sink = { tty: null, line: () => {} };
    const report = await verifyBlobs({ store, description: "bucket", deep: true, sink });
    expect(report.orphanUploads).toContainEqual({
      key: `uploads/${abandoned} (unfinished multipart upload)`,
      size: 0,
    });
    // The database is shared with the run's other test files, whose blobs live elsewhere: only this
    // test's blob is asked about.
    expect(report.missing.map((blob) => blob.sha256)).not.toContain(sha256(bytes));
    expect(report.damaged.map((blob) => blob.sha256)).not.toContain(sha256(bytes));
    expect(report.orphans.map((orphan) => orphan.sha256)).not.toContain(sha256(bytes));
    expect(report.orphanUploads).toContainEqual({ key: stray, size: 11 });
    expect(report.orphanUploads.map((orphan) => orphan.key)).not.toContain(`uploads/${id}`);
    await reconcileStorage({ leaseSeconds: LEASE_SECONDS });
    expect(await keysUnder(stray)).toEqual([]);
    expect(await multipartUploads()).not.toContain(`uploads/${abandoned}`);
    expect(await keysUnder(`uploads/${id}`)).toEqual([`uploads/${id}`]);
    const target = createLocalBlobStore({ root: await mkdtemp(path.join(os.tmpdir(), "hangar-migrated-")) });
    const migrated = await migrateBlobs({
      source: store,
      target,
      from: "bucket",
      to: "local",
      dataDir: process.env.HANGAR_DATA_DIR!,
      sink,
    });
    expect(migrated.failed.map((blob) => blob.sha256)).not.toContain(sha256(bytes));
    expect(await target.stat(sha256(bytes))).toEqual({ size: bytes.length });
  }, 180_000);
});
