// HANGAR_S3_DOWNLOADS=redirect against a real OpenStack Swift (tests/swift.ts): an authorised GET
// is sent to a presigned URL that serves the right bytes (with Range) under the same name and type
// as a streamed download, and stops working when it expires; HEAD is still Hangar's; whoever may not
// download gets no URL. The version API and a feed (through the HTTP server's fast path) alike.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { promisify } from "node:util";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { setImagePublishing } from "@/db/queries/feeds";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { blobs } from "@/db/schema";
import { env, readEnv } from "@/lib/env";
import { handleFeedNode } from "@/lib/feeds/http";
import { createFeed } from "@/lib/feeds/service";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import { createTestBucket, sharedSwift } from "@/tests/swift";
import { downloadResponse } from "./download";

const exec = promisify(execFile);
const savedEnv = { ...process.env };
const bytes = randomBytes(2 * 1024 * 1024 + 5);
const sha256 = createHash("sha256").update(bytes).digest("hex");
let member: Viewer;
let outsider: Viewer;
let admin: Viewer;
let versionId: string;
let imageSlug: string;

const apiUrl = () => `http://hangar.test/api/v1/versions/${versionId}/download`;
const download = (viewer: Viewer, init: RequestInit = {}) =>
  downloadResponse({ request: new Request(apiUrl(), init), viewer, versionId });

beforeAll(async () => {
  const server = await sharedSwift();
  const bucket = await createTestBucket(server, "redirect");
  Object.assign(process.env, {
    HANGAR_BLOB_STORE: "s3",
    HANGAR_S3_ENDPOINT: server.endpoint,
    HANGAR_S3_BUCKET: bucket,
    HANGAR_S3_REGION: server.region,
    HANGAR_S3_ACCESS_KEY_ID: server.accessKeyId,
    HANGAR_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    HANGAR_S3_PREFIX: `redirect-${randomBytes(4).toString("hex")}/`,
    HANGAR_S3_DOWNLOADS: "redirect",
    HANGAR_S3_REDIRECT_SECONDS: "60",
  });
  const temp = path.join(env().dataDir, unique("redirect-blob"));
  await writeFile(temp, bytes);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256, size: bytes.length });
  member = await createTestUser();
  outsider = await createTestUser();
  admin = await createTestUser({ role: "admin" });
  const projectId = (await createTestProject({ members: [{ viewer: member, role: "owner" }] })).id;
  member = (await viewerOf(member.id))!;
  const image = await createTestImage({ projectId, versions: [] });
  imageSlug = image.slug;
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: member.id,
      values: {
        imageId: image.id,
        version: "1.0",
        format: "raw",
        virtualSize: bytes.length,
        fileSize: bytes.length,
        sha256,
        sha512: createHash("sha512").update(bytes).digest("hex"),
        releaseStatus: "approved",
        source: "upload",
      },
    }),
  );
  versionId = version.id;
  // Feeds list only files whose checksums are known (the blob.checksums job's, not run here).
  await db()
    .update(blobs)
    .set({ md5: createHash("md5").update(bytes).digest("hex") })
    .where(eq(blobs.sha256, sha256));
  await setImagePublishing({ viewer: admin, imageId: image.id, published: true, channels: ["latest"] });
});

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

describe("presigned redirect downloads", () => {
  it("is validated at start: stream or redirect, redirect only with the bucket store, 1 s to 7 days", () => {
    const s3 = { HANGAR_BLOB_STORE: "s3", HANGAR_S3_BUCKET: "hangar" };
    expect(readEnv(s3)).toMatchObject({ HANGAR_S3_DOWNLOADS: "stream", HANGAR_S3_REDIRECT_SECONDS: 300 });
    expect(() => readEnv({ ...s3, HANGAR_S3_DOWNLOADS: "proxy" })).toThrow(
      /HANGAR_S3_DOWNLOADS is stream \(the default\) or redirect/,
    );
    expect(() => readEnv({ HANGAR_S3_DOWNLOADS: "redirect" })).toThrow(
      /HANGAR_S3_DOWNLOADS=redirect .* needs HANGAR_BLOB_STORE=s3/,
    );
    expect(() => readEnv({ ...s3, HANGAR_S3_REDIRECT_SECONDS: "0" })).toThrow(/HANGAR_S3_REDIRECT_SECONDS/);
    expect(() => readEnv({ ...s3, HANGAR_S3_REDIRECT_SECONDS: "604801" })).toThrow(/at most 604800/);
  });

  it("sends an authorised GET to the bucket under the streamed download's name and type, with Range", async () => {
    process.env.HANGAR_S3_DOWNLOADS = "stream";
    const streamed = await download(member);
    expect(streamed.status).toBe(200);
    await streamed.body?.cancel();
    process.env.HANGAR_S3_DOWNLOADS = "redirect";

    const answer = await download(member);
    expect(answer.status).toBe(307);
    expect(answer.headers.get("cache-control")).toBe("private, no-store");
    const location = answer.headers.get("location")!;
    expect(new URL(location).origin).toBe(new URL(process.env.HANGAR_S3_ENDPOINT!).origin);

    // No credentials but the URL's own.
    const whole = await fetch(location);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    for (const name of ["content-disposition", "content-type", "cache-control", "content-length"])
      expect(whole.headers.get(name), name).toBe(streamed.headers.get(name));
    expect(whole.headers.get("content-disposition")).toContain(`${imageSlug}-1.0.raw`);

    const part = await fetch(location, { headers: { Range: "bytes=1048570-1048589" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 1048570-1048589/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1048570, 1048590))).toBe(true);

    // A tampered URL is refused by the bucket: the signature covers the key and the headers asked for.
    const tampered = new URL(location);
    tampered.searchParams.set("response-content-disposition", 'attachment; filename="other.raw"');
    expect((await fetch(tampered)).status).toBe(403);
  });

  it("answers HEAD, 304, 416 and a stale If-Range itself", async () => {
    const head = await download(member, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("location")).toBeNull();
    expect(head.headers.get("etag")).toBe(`"${sha256}"`);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    expect((await download(member, { headers: { "If-None-Match": `"${sha256}"` } })).status).toBe(304);
    expect((await download(member, { headers: { Range: `bytes=${bytes.length}-` } })).status).toBe(416);
    const stale = await download(member, { headers: { Range: "bytes=0-9", "If-Range": '"an-old-etag"' } });
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer()).equals(bytes)).toBe(true);
    // A matching If-Range is redirected like any GET: the bucket then sends the range or the whole file.
    expect((await download(member, { headers: { Range: "bytes=0-9", "If-Range": `"${sha256}"` } })).status).toBe(307);
  });

  it("gives no URL to a caller who may not download the version", async () => {
    const answer = await download(outsider);
    expect(answer.status).toBe(404);
    expect(answer.headers.get("location")).toBeNull();
    expect(await answer.text()).not.toContain(process.env.HANGAR_S3_BUCKET!);
  });

  it("makes URLs that stop working when HANGAR_S3_REDIRECT_SECONDS have passed", async () => {
    process.env.HANGAR_S3_REDIRECT_SECONDS = "1";
    try {
      const location = (await download(member)).headers.get("location")!;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const expired = await fetch(location);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toMatch(/expired/i);
      // Hangar hands out a fresh one to the next request.
      const again = await fetch((await download(member)).headers.get("location")!);
      expect(again.status).toBe(200);
      await again.body?.cancel();
    } finally {
      process.env.HANGAR_S3_REDIRECT_SECONDS = "60";
    }
  });

  it("redirects a feed's file download through the HTTP server's fast path: fetch, wget, curl -L and qemu-img follow it", async () => {
    const { url: feedUrl } = await createFeed({ viewer: admin, name: unique("feed") });
    const server = http.createServer((req, res) => void handleFeedNode(req, res, { address: "198.51.100.9" }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const url = `${origin}${new URL(feedUrl).pathname}files/${versionId}/${imageSlug}-1.0.img`;
      const head = await fetch(url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String(bytes.length));
      const first = await fetch(url, { redirect: "manual" });
      expect(first.status).toBe(307);
      const followed = await fetch(url, { headers: { Range: "bytes=5-2097151" } });
      expect(followed.status).toBe(206);
      expect(followed.url).not.toBe(url);
      expect(followed.headers.get("content-disposition")).toContain(`${imageSlug}-1.0.img`);
      expect(Buffer.from(await followed.arrayBuffer()).equals(bytes.subarray(5, 2097152))).toBe(true);
      // The platforms' own downloaders follow it: wget names the file as Hangar would; curl -L
      // resumes a range; qemu's curl driver asks Hangar for the size (HEAD), then ranges from the bucket.
      const work = await mkdtemp(path.join(os.tmpdir(), "hangar-redirect-"));
      await exec("wget", ["-q", "--content-disposition", "-P", work, url]);
      expect((await readFile(path.join(work, `${imageSlug}-1.0.img`))).equals(bytes)).toBe(true);
      const curled = await exec("curl", ["-sSfL", "-r", "100-199", url], { encoding: "buffer" });
      expect(curled.stdout.equals(bytes.subarray(100, 200))).toBe(true);
      await exec("qemu-img", ["convert", "-f", "raw", "-O", "raw", url, path.join(work, "qemu.raw")]);
      // qemu rounds a raw disk up to whole 512-byte sectors, filled with zeros.
      const viaQemu = await readFile(path.join(work, "qemu.raw"));
      expect(viaQemu.length).toBe(Math.ceil(bytes.length / 512) * 512);
      expect(viaQemu.subarray(0, bytes.length).equals(bytes)).toBe(true);
      expect(viaQemu.subarray(bytes.length).every((byte) => byte === 0)).toBe(true);
      await rm(work, { recursive: true, force: true });
      const wrongName = await fetch(`${origin}${new URL(feedUrl).pathname}files/${versionId}/other.img`, {
        redirect: "manual",
      });
      expect(wrongName.status).toBe(404);
      expect(wrongName.headers.get("location")).toBeNull();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
