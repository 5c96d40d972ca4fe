import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { createReadyVersion } from "@/db/queries/images";
import { revokeFeed, setImagePublishing } from "@/db/queries/feeds";
import { blobs, imageVersions } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { env } from "@/lib/env";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleFeedNode, handleFeedRequest } from "./http";
import { applianceId } from "./opennebula";
import { createFeed } from "./service";

let admin: Viewer;
let feedUrl: string;
let feedId: string;
let feedName: string;
let imageSlug: string;
let versionId: string;
const bytes = randomBytes(3 * 1024 * 1024 + 17);
const digest = (algorithm: string) => createHash(algorithm).update(bytes).digest("hex");

const get = (url: string, init: RequestInit = {}) =>
  handleFeedRequest(new Request(url, init), { address: "198.51.100.4" });

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  const projectId = (await createTestProject({ members: [] })).id;
  const temp = path.join(env().dataDir, unique("feed-blob"));
  await writeFile(temp, bytes);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256: digest("sha256"), size: bytes.length });
  const image = await createTestImage({ projectId, versions: [], name: "Feed test" });
  imageSlug = image.slug;
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: admin.id,
      values: {
        imageId: image.id,
        version: "2.0.1",
        format: "raw",
        virtualSize: bytes.length,
        fileSize: bytes.length,
        sha256: digest("sha256"),
        sha512: digest("sha512"),
        releaseStatus: "approved",
        source: "upload",
      },
    }),
  );
  versionId = version.id;
  await db()
    .update(blobs)
    .set({ md5: digest("md5") })
    .where(eq(blobs.sha256, digest("sha256")));
  await setImagePublishing({ viewer: admin, imageId: image.id, published: true, channels: ["latest"] });
  feedName = unique("feed");
  const made = await createFeed({ viewer: admin, name: feedName });
  feedUrl = made.url;
  feedId = made.feed.id;
});

describe("feed HTTP", () => {
  it("serves a version's file under its own name: HEAD, whole GET, ranges, If-Range, 416", async () => {
    const url = `${feedUrl}files/${versionId}/${imageSlug}-2.0.1.img`;
    const head = await get(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    expect(head.headers.get("content-type")).toBe("application/octet-stream");
    expect(head.headers.get("content-disposition")).toContain(`${imageSlug}-2.0.1.img`);
    expect(head.headers.get("accept-ranges")).toBe("bytes");

    const whole = await get(url);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const part = await get(url, { headers: { Range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const changed = await get(url, { headers: { Range: "bytes=0-9", "If-Range": '"something-else"' } });
    expect(changed.status).toBe(200);
    await changed.body?.cancel();
    expect((await get(url, { headers: { Range: `bytes=${bytes.length}-` } })).status).toBe(416);
  });

  it("answers the channel lookup with the download URL and all three checksums", async () => {
    const answer = await get(`${feedUrl}channels/${imageSlug}/latest.json`);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as Record<string, Record<string, unknown>>;
    expect(body.version).toMatchObject({
      id: versionId,
      version: "2.0.1",
      format: "raw",
      sha256: digest("sha256"),
      sha512: digest("sha512"),
      md5: digest("md5"),
      fileSize: bytes.length,
    });
    expect(body.download).toEqual({
      url: `${feedUrl}files/${versionId}/${imageSlug}-2.0.1.img`,
      filename: `${imageSlug}-2.0.1.img`,
    });
    expect((await get(`${feedUrl}channels/${imageSlug}/stable.json`)).status).toBe(404);
  });

  it("sends the same bytes through the HTTP server's fast path, whole and in ranges", async () => {
    const server = http.createServer((req, res) => void handleFeedNode(req, res, { address: "198.51.100.5" }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const url = `${origin}${new URL(feedUrl).pathname}files/${versionId}/${imageSlug}-2.0.1.img`;
      const whole = await fetch(url);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
      // Across the 1 MiB buffers' seams, and the last byte alone.
      for (const [start, end] of [
        [1024 * 1024 - 3, 2 * 1024 * 1024 + 5],
        [bytes.length - 1, bytes.length - 1],
      ] as const) {
        const part = await fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
        expect(part.status).toBe(206);
        expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(start, end + 1))).toBe(true);
      }
      const head = await fetch(url, { method: "HEAD" });
      expect(head.headers.get("content-length")).toBe(String(bytes.length));
      // A client that goes away mid-file leaves the server answering the next request.
      const controller = new AbortController();
      const aborted = await fetch(url, { signal: controller.signal });
      const reader = aborted.body!.getReader();
      await reader.read();
      controller.abort();
      expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("answers OpenNebula's index at appliance and //appliance, and redirects its download to the file", async () => {
    for (const tail of ["opennebula/appliance", "opennebula//appliance"]) {
      const answer = await get(feedUrl + tail);
      expect(answer.status).toBe(200);
      const index = (await answer.json()) as {
        sEcho: number;
        appliances: { _id: { $oid: string }; name: string; files: { size: unknown; md5: string }[] }[];
      };
      expect(index.sEcho).toBe(1);
      const mine = index.appliances.find((appliance) => appliance._id.$oid === versionId)!;
      expect(Number(mine.files[0]!.size)).toBe(bytes.length);
      expect(mine.files[0]!.md5).toBe(digest("md5"));
      // A token feed's app names carry its name: another feed offering this image into the same OpenNebula differs.
      expect(mine.name).toBe(`Hangar ${feedName} - Feed test 2.0.1`);
    }
    const download = await get(`${feedUrl}opennebula/appliance/${versionId}/download/0`);
    expect(download.status).toBe(302);
    expect(download.headers.get("location")).toBe(
      `${new URL(feedUrl).pathname}files/${versionId}/${imageSlug}-2.0.1.img`,
    );
    expect(
      (await get(`${feedUrl}opennebula/appliance/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}/download/0`)).status,
    ).toBe(404);
  });

  it("redirects an app's link in Sunstone (appliance/<id>) to the version's page, for what the feed offers only", async () => {
    const page = `${env().origin}/images/${imageSlug}/versions/2.0.1`;
    for (const id of [versionId, applianceId(versionId, "latest")]) {
      const answer = await get(`${feedUrl}opennebula/appliance/${id}`);
      expect(answer.status).toBe(302);
      expect(answer.headers.get("location")).toBe(page);
    }
    expect((await get(`${feedUrl}opennebula//appliance/${versionId}/`)).headers.get("location")).toBe(page);
    const unknown = `${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}`;
    const missing = await get(`${feedUrl}opennebula/appliance/${unknown}`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe(await (await get(`${feedUrl}nothing-here`)).text());
    expect((await get(`${feedUrl}opennebula/appliance/not-an-id`)).status).toBe(404);
  });

  it("is the same 404 for a wrong file name, an unknown path, a bad secret and a revoked feed", async () => {
    const wrongName = await get(`${feedUrl}files/${versionId}/other.img`);
    expect(wrongName.status).toBe(404);
    expect((await get(`${feedUrl}nothing-here`)).status).toBe(404);
    expect((await get(`${feedUrl}files/${"-".repeat(36)}/x.img`)).status).toBe(404);
    expect((await get(feedUrl.replace(/hgf_[^/]+/, "hgf_" + "A".repeat(43)) + "channels/x/latest.json")).status).toBe(
      404,
    );
    expect((await get(`${feedUrl}files/${versionId}/${imageSlug}-2.0.1.img`, { method: "POST" })).status).toBe(405);
    await revokeFeed({ viewer: admin, id: feedId });
    const revoked = await get(`${feedUrl}files/${versionId}/${imageSlug}-2.0.1.img`, { method: "HEAD" });
    expect(revoked.status).toBe(404);
    expect(await wrongName.text()).toBe(await (await get(`${feedUrl}nothing-here`)).text());
    // The version itself is untouched.
    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.id, versionId));
    expect(version?.releaseStatus).toBe("approved");
  });
});
