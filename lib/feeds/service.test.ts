import { eq, inArray, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { enablePublicFeed, listFeeds, revokeFeed, setImagePublishing, getFeed } from "@/db/queries/feeds";
import { randomBytes } from "node:crypto";
import { createReadyVersion } from "@/db/queries/images";
import { blobs, conversions, imageVersions, projectMembers } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { moveChannel } from "@/db/queries/channels";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import { createFeed, feedVersions, openFeed, PUBLIC_FEED_SEGMENT } from "./service";

let admin: Viewer;
let owner: Viewer;
let member: Viewer;
let projectId: string;
let otherProjectId: string;

const randomHex = (bytes: number) => randomBytes(bytes).toString("hex");
const secretOf = (url: string) => new URL(url).pathname.split("/")[2]!;

/** Versions get md5 in the background; here they get it at once (or not, to test the wait). */
async function giveMd5(imageId: string) {
  const versions = await db()
    .select({ sha256: imageVersions.sha256 })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, imageId));
  await db()
    .update(blobs)
    .set({ md5: sql`md5(${blobs.sha256})` })
    .where(
      inArray(
        blobs.sha256,
        versions.map((version) => version.sha256!),
      ),
    );
}

async function publishedImage(
  options: Parameters<typeof createTestImage>[0],
  { channels = ["latest"], md5 = true }: { channels?: string[]; md5?: boolean } = {},
) {
  const image = await createTestImage(options);
  if (md5) await giveMd5(image.id);
  await setImagePublishing({ viewer: admin, imageId: image.id, published: true, channels });
  return image;
}

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  owner = await createTestUser();
  member = await createTestUser();
  projectId = (
    await createTestProject({
      members: [
        { viewer: owner, role: "owner" },
        { viewer: member, role: "member" },
      ],
    })
  ).id;
  otherProjectId = (await createTestProject({ members: [] })).id;
  owner = (await viewerOf(owner.id))!;
  member = (await viewerOf(member.id))!;
});

describe("feeds", () => {
  it("project owners make project feeds, admins any; others are refused and nothing is stored", async () => {
    const name = unique("OpenNebula prod");
    const made = await createFeed({
      viewer: owner,
      name,
      projectSlug: owner.memberships[0]!.projectSlug,
    });
    expect(made.url).toMatch(/\/feeds\/hgf_[A-Za-z0-9_-]{43}\/$/);
    expect(made.feed).toMatchObject({ name, projectId, kind: "token" });
    await expect(
      createFeed({ viewer: member, name: "x", projectSlug: member.memberships[0]!.projectSlug }),
    ).rejects.toMatchObject({ code: "forbidden" });
    await expect(createFeed({ viewer: owner, name: "everything" })).rejects.toMatchObject({ code: "forbidden" });
    await expect(createFeed({ viewer: owner, name: "  " })).rejects.toMatchObject({ code: "invalid" });
    expect((await createFeed({ viewer: admin, name: unique("all of it") })).feed.projectId).toBeNull();
    expect((await listFeeds({ viewer: member })).length).toBe(0);
    expect((await listFeeds({ viewer: owner })).map((feed) => feed.name)).toEqual([name]);
  });

  it("refuses a name whose OpenNebula apps would clash with a live feed's, until that feed is revoked", async () => {
    const name = unique("Ops Ünit");
    const first = await createFeed({ viewer: admin, name });
    // OpenNebula compares names case- and accent-blind, and forbidden characters become "-".
    for (const clashing of [name.toUpperCase(), name.replace("Ü", "U"), ` ${name} `])
      await expect(createFeed({ viewer: admin, name: clashing })).rejects.toMatchObject({
        code: "conflict",
        message: expect.stringContaining(name),
        fieldErrors: { name: [expect.any(String)] },
      });
    // A project owner is refused the same way: the names share one OpenNebula.
    await expect(
      createFeed({ viewer: owner, name, projectSlug: owner.memberships[0]!.projectSlug }),
    ).rejects.toMatchObject({ code: "conflict" });
    expect((await createFeed({ viewer: admin, name: `${name} 2` })).feed.name).toBe(`${name} 2`);
    await revokeFeed({ viewer: admin, id: first.feed.id });
    expect((await createFeed({ viewer: admin, name })).feed.name).toBe(name);
    await expect(createFeed({ viewer: admin, name: "\u0007\u0008" })).rejects.toMatchObject({ code: "invalid" });
  });

  it("offers approved and deprecated versions of published images in scope, once all three checksums are known", async () => {
    const shown = await publishedImage(
      {
        projectId,
        versions: [
          { version: "1.0", releaseStatus: "deprecated" },
          { version: "1.1", releaseStatus: "approved" },
          { version: "1.2", releaseStatus: "pending_review" },
          { version: "1.3", releaseStatus: "revoked" },
        ],
      },
      { channels: ["latest", "stable"] },
    );
    const [stableTarget] = await db()
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(sql`${imageVersions.imageId} = ${shown.id} and ${imageVersions.version} = '1.1'`);
    await moveChannel({ viewer: admin, imageId: shown.id, name: "stable", versionId: stableTarget!.id });
    await moveChannel({ viewer: admin, imageId: shown.id, name: "unoffered", versionId: stableTarget!.id });
    const unpublished = await createTestImage({ projectId, versions: [{ version: "9.0" }] });
    await giveMd5(unpublished.id);
    const waiting = await publishedImage({ projectId, versions: [{ version: "2.0" }] }, { md5: false });
    const elsewhere = await publishedImage({ projectId: otherProjectId, versions: [{ version: "3.0" }] });

    const projectFeed = await createFeed({
      viewer: owner,
      name: unique("feed"),
      projectSlug: owner.memberships[0]!.projectSlug,
    });
    const opened = (await openFeed(secretOf(projectFeed.url), { address: "192.0.2.7" }))!;
    const offered = await feedVersions(opened);
    const mine = offered.filter((version) => version.imageId === shown.id);
    expect(mine.map((version) => [version.version, version.releaseStatus, version.channels])).toEqual([
      ["1.0", "deprecated", []],
      ["1.1", "approved", ["latest", "stable"]],
    ]);
    expect(mine[1]!.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(mine[1]!.urls.download).toBe(
      `${projectFeed.url}files/${mine[1]!.versionId}/${mine[1]!.imageSlug}-1.1.qcow2`,
    );
    const images = new Set(offered.map((version) => version.imageId));
    expect(images.has(unpublished.id)).toBe(false);
    expect(images.has(waiting.id)).toBe(false);
    expect(images.has(elsewhere.id)).toBe(false);

    const everything = await createFeed({ viewer: admin, name: unique("all") });
    const all = await feedVersions((await openFeed(secretOf(everything.url), { address: null }))!);
    expect(new Set(all.map((version) => version.imageId)).has(elsewhere.id)).toBe(true);

    const used = await getFeed({ id: projectFeed.feed.id });
    expect(used).toMatchObject({ useCount: 1, lastUsedAddress: "192.0.2.7" });
  });

  it("shrinks with its creator's rights and stops at once when revoked", async () => {
    const image = await publishedImage({ projectId, versions: [{ version: "5.0" }] });
    const demoted = await createTestUser();
    await db().insert(projectMembers).values({ projectId, userId: demoted.id, role: "owner" });
    const creator = (await viewerOf(demoted.id))!;
    const made = await createFeed({
      viewer: creator,
      name: unique("feed"),
      projectSlug: creator.memberships[0]!.projectSlug,
    });
    const segment = secretOf(made.url);
    const offeredIds = async () =>
      (await feedVersions((await openFeed(segment, { address: null }))!)).map((version) => version.imageId);
    expect(await offeredIds()).toContain(image.id);
    await db().delete(projectMembers).where(eq(projectMembers.userId, demoted.id));
    expect(await offeredIds()).not.toContain(image.id);

    await revokeFeed({ viewer: owner, id: made.feed.id });
    expect(await openFeed(segment, { address: null })).toBeNull();
    expect(await openFeed("hgf_not-a-real-secret", { address: null })).toBeNull();
    await expect(revokeFeed({ viewer: member, id: made.feed.id })).rejects.toMatchObject({ code: "not_found" });
  });

  it("the public feed lists public images only, and only while an admin has it on", async () => {
    const open = await publishedImage({ projectId, visibility: "public", versions: [{ version: "7.0" }] });
    const closed = await publishedImage({ projectId, versions: [{ version: "7.1" }] });
    const existing = await openFeed(PUBLIC_FEED_SEGMENT, { address: null });
    if (existing) await revokeFeed({ viewer: admin, id: existing.feed.id });
    expect(await openFeed(PUBLIC_FEED_SEGMENT, { address: null })).toBeNull();
    await expect(enablePublicFeed({ viewer: owner })).rejects.toMatchObject({ code: "forbidden" });
    const on = await enablePublicFeed({ viewer: admin });
    expect((await enablePublicFeed({ viewer: admin })).id).toBe(on.id);
    const ids = (await feedVersions((await openFeed(PUBLIC_FEED_SEGMENT, { address: null }))!)).map(
      (version) => version.imageId,
    );
    expect(ids).toContain(open.id);
    expect(ids).not.toContain(closed.id);
  });

  it("offers a linked clone only through its flattened copy, once there is one", async () => {
    const image = await publishedImage({ projectId, versions: [{ version: "10.0" }] });
    const [base] = await db()
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(eq(imageVersions.imageId, image.id));
    const overlay = { sha256: randomHex(32), sha512: randomHex(64) };
    const linked = await db().transaction((tx) =>
      createReadyVersion({
        tx,
        actorId: null,
        values: {
          imageId: image.id,
          version: "10.1",
          format: "qcow2",
          virtualSize: 1 << 26,
          fileSize: 4096,
          ...overlay,
          releaseStatus: "approved",
          source: "clone",
          backingVersionId: base!.id,
        },
      }),
    );
    await db()
      .update(blobs)
      .set({ md5: sql`md5(${blobs.sha256})` })
      .where(eq(blobs.sha256, overlay.sha256));
    const made = await createFeed({ viewer: admin, name: unique("all") });
    const offered = async () =>
      (await feedVersions((await openFeed(secretOf(made.url), { address: null }))!)).filter(
        (version) => version.imageId === image.id,
      );
    expect((await offered()).map((version) => version.version)).toEqual(["10.0"]);

    const flat = { sha256: randomHex(32), sha512: randomHex(64) };
    await db()
      .insert(blobs)
      .values({ ...flat, md5: randomHex(16), size: 1 << 26 });
    await db()
      .insert(conversions)
      .values({
        versionId: linked.id,
        targetFormat: "qcow2",
        status: "succeeded",
        sha256: flat.sha256,
        fileSize: 1 << 26,
      });
    const [, clone] = await offered();
    expect(clone).toMatchObject({ version: "10.1", sha256: flat.sha256, sha512: flat.sha512, fileSize: 1 << 26 });
  });

  it("only owners and admins publish, and unpublishing empties every feed of the image", async () => {
    const image = await createTestImage({ projectId, versions: [{ version: "8.0" }] });
    await giveMd5(image.id);
    await expect(setImagePublishing({ viewer: member, imageId: image.id, published: true })).rejects.toMatchObject({
      code: "forbidden",
    });
    await setImagePublishing({ viewer: owner, imageId: image.id, published: true });
    const made = await createFeed({ viewer: admin, name: unique("all") });
    const read = async () =>
      (await feedVersions((await openFeed(secretOf(made.url), { address: null }))!)).map((version) => version.imageId);
    expect(await read()).toContain(image.id);
    await setImagePublishing({ viewer: owner, imageId: image.id, published: false });
    expect(await read()).not.toContain(image.id);
  });
});
