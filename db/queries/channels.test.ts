// Channels and the audit log on the real database.
import { count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { channelMoves, imageVersions } from "@/db/schema";
import { moveChannelAction } from "@/lib/actions/channel-actions";
import { createTestImage, createTestProject, createTestUser, viewerOf } from "@/tests/fixtures";
import { listAuditEvents } from "./audit";
import { listChannels } from "./channels";
import { resolveBase } from "./recipes";
import type { Viewer } from "./users";

let owner: Viewer;
let member: Viewer;
let imageId: string;
let imageSlug: string;
const version: Record<string, string> = {};

beforeAll(async () => {
  owner = await createTestUser();
  member = await createTestUser();
  const projectId = (
    await createTestProject({
      members: [
        { viewer: owner, role: "owner" },
        { viewer: member, role: "member" },
      ],
    })
  ).id;
  owner = (await viewerOf(owner.id))!;
  member = (await viewerOf(member.id))!;
  const image = await createTestImage({
    projectId,
    versions: [
      { version: "1", releaseStatus: "approved" },
      { version: "2", releaseStatus: "approved" },
      { version: "3", releaseStatus: "rejected" },
      { version: "4", releaseStatus: "revoked" },
      { version: "5", releaseStatus: "pending_review" },
    ],
  });
  imageId = image.id;
  imageSlug = image.slug;
  for (const row of await db()
    .select({ id: imageVersions.id, version: imageVersions.version })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, imageId)))
    version[row.version] = row.id;
});

const moves = async () => (await db().select({ n: count() }).from(channelMoves))[0]!.n;

describe("channels", () => {
  it("are moved by owners to approved versions, with history and an audit event", async () => {
    expect(await moveChannelAction(owner, { imageId, name: "stable", versionId: version["1"] })).toMatchObject({
      ok: true,
    });
    expect(await moveChannelAction(owner, { imageId, name: "stable", versionId: version["2"] })).toMatchObject({
      ok: true,
    });
    const channels = await listChannels({ imageId });
    expect(channels.map((channel) => [channel.name, channel.version, channel.managed])).toEqual([
      ["latest", "2", true],
      ["stable", "2", false],
    ]);
    const events = await listAuditEvents({ objectId: imageId, action: "channel." });
    expect(events.map((event) => event.after)).toEqual([
      { channel: "stable", versionId: version["2"] },
      { channel: "stable", versionId: version["1"] },
    ]);
    expect(
      (await listAuditEvents({ objectId: imageId, actor: owner.email.slice(0, 12) })).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ["a rejected version", "3", /only point at an approved version; 3 is rejected/],
    ["a revoked version", "4", /only point at an approved version; 4 is revoked/],
    ["a version waiting for review", "5", /only point at an approved version/],
  ])("refuses %s and changes nothing", async (_, target, message) => {
    const before = await moves();
    const result = await moveChannelAction(owner, { imageId, name: "testing", versionId: version[target] });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok) expect(result.message).toMatch(message);
    expect(await moves()).toBe(before);
  });

  it("refuses members who are not owners, and moving latest", async () => {
    const before = await moves();
    expect(await moveChannelAction(member, { imageId, name: "stable", versionId: version["1"] })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await moveChannelAction(owner, { imageId, name: "latest", versionId: version["1"] })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await moves()).toBe(before);
  });

  it("are what a recipe following them builds on", async () => {
    await moveChannelAction(owner, { imageId, name: "lts", versionId: version["1"] });
    expect((await resolveBase({ viewer: member, image: imageSlug, channel: "lts" })).version).toBe("1");
    expect((await resolveBase({ viewer: member, image: imageSlug, channel: "latest" })).version).toBe("2");
    await expect(resolveBase({ viewer: member, image: imageSlug, channel: "nightly" })).rejects.toThrow(
      /no channel “nightly”/,
    );
  });
});
