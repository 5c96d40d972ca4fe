import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { setImagePublishing } from "@/db/queries/feeds";
import { createReadyVersion } from "@/db/queries/images";
import { blobs } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { env } from "@/lib/env";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { makePlatformArtifacts } from "./artifacts";
import { handleFeedRequest } from "./http";
import { createFeed } from "./service";

const exec = promisify(execFile);
let feedUrl: string;
let versionId: string;
let disk: Buffer;
let admin: Viewer;

const get = (tail: string) => handleFeedRequest(new Request(feedUrl + tail), { address: null });
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest("hex");

interface Products {
  format: string;
  content_id: string;
  products: Record<
    string,
    { aliases: string; versions: Record<string, { items: Record<string, Record<string, string>> }> }
  >;
}

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  // Its own project's feed: other tests' published images (on other channels) stay out of it.
  const project = await createTestProject({ members: [{ viewer: admin, role: "owner" }] });
  const projectId = project.id;
  const work = await mkdtemp(path.join(os.tmpdir(), "hangar-streams-"));
  const file = path.join(work, "disk.qcow2");
  await exec("qemu-img", ["create", "-q", "-f", "qcow2", file, "64M"]);
  disk = await readFile(file);
  const temp = path.join(env().dataDir, unique("streams-blob"));
  await copyFile(file, temp);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hex("sha256", disk), size: disk.length });
  const image = await createTestImage({ projectId, versions: [], name: "Streams test", osVersion: "12" });
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: admin.id,
      values: {
        imageId: image.id,
        version: "1.0.0",
        format: "qcow2",
        virtualSize: 64 * 1024 * 1024,
        fileSize: disk.length,
        sha256: hex("sha256", disk),
        sha512: hex("sha512", disk),
        releaseStatus: "approved",
        source: "upload",
      },
    }),
  );
  versionId = version.id;
  await db()
    .update(blobs)
    .set({ md5: hex("md5", disk) })
    .where(eq(blobs.sha256, hex("sha256", disk)));
  await setImagePublishing({ viewer: admin, imageId: image.id, published: true, channels: ["latest"] });
  feedUrl = (await createFeed({ viewer: admin, name: unique("streams"), projectSlug: project.slug })).url;
});

describe("simplestreams through the feed", () => {
  it("lists the channel's products file, the disk at once and the LXD/Incus items once made", async () => {
    const index = (await (await get("streams/v1/index.json")).json()) as {
      format: string;
      index: Record<string, { path: string; products: string[] }>;
    };
    expect(index.format).toBe("index:1.0");
    const latest = index.index["hangar:latest"]!;
    expect(latest.path).toBe("streams/v1/hangar:latest.json");

    const before = (await (await get(latest.path)).json()) as Products;
    expect(before.format).toBe("products:1.0");
    const product = Object.values(before.products).find((entry) =>
      Object.values(entry.versions).some((v) =>
        Object.values(v.items).some((item) => item.sha256 === hex("sha256", disk)),
      ),
    )!;
    const [items] = Object.values(product.versions).map((v) => v.items);
    expect(items!["disk1.img"]).toMatchObject({
      ftype: "disk1.img",
      sha256: hex("sha256", disk),
      md5: hex("md5", disk),
    });
    expect(items!["lxd.tar.xz"]).toBeUndefined();

    await makePlatformArtifacts({ versionId });
    const after = (await (await get(latest.path)).json()) as Products;
    const made = Object.values(after.products)
      .flatMap((entry) => Object.values(entry.versions))
      .map((v) => v.items)
      .find((entryItems) => entryItems["disk1.img"]?.sha256 === hex("sha256", disk))!;
    const metadata = made["lxd.tar.xz"]!;
    expect(metadata.ftype).toBe("lxd.tar.xz");
    const tarball = Buffer.from(await (await get(metadata.path!)).arrayBuffer());
    expect(hex("sha256", tarball)).toBe(metadata.sha256);
    expect(metadata["combined_disk1-img_sha256"]).toBe(hex("sha256", Buffer.concat([tarball, disk])));
    const disk1Path = made["disk1.img"]!.path!;
    expect(Buffer.from(await (await get(disk1Path)).arrayBuffer()).equals(disk)).toBe(true);
  });

  it("answers 404 for a channel it does not offer and a tarball of a version it does not list", async () => {
    expect((await get("streams/v1/hangar:stable.json")).status).toBe(404);
    expect((await get(`streams/files/${"0".repeat(8)}-0000-0000-0000-${"0".repeat(12)}/lxd.tar.xz`)).status).toBe(404);
    expect((await get("streams/v1/index.sjson")).status).toBe(404);
  });
});
