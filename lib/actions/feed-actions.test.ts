import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { getFeed } from "@/db/queries/feeds";
import type { Viewer } from "@/db/queries/users";
import { images } from "@/db/schema";
import { defaultVmTemplate } from "@/db/enums";
import { issueApiToken, viewerFromTokenSecret } from "@/lib/api/tokens";
import { openFeed } from "@/lib/feeds/service";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import {
  createFeedAction,
  listFeedsAction,
  revokeFeedAction,
  setImagePublishingAction,
  setPublicFeedAction,
} from "./feed-actions";

let admin: Viewer;
let owner: Viewer;
let member: Viewer;
let outsider: Viewer;
let project: { id: string; slug: string };

const address = "198.51.100.9";
const segmentOf = (url: string) => new URL(url).pathname.split("/")[2]!;

function data<T>(result: { ok: true; data: T } | { ok: false; code: string; message: string }): T {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result.data;
}

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  owner = await createTestUser();
  member = await createTestUser();
  outsider = await createTestUser();
  project = await createTestProject({
    members: [
      { viewer: owner, role: "owner" },
      { viewer: member, role: "member" },
    ],
  });
  owner = (await viewerOf(owner.id))!;
  member = (await viewerOf(member.id))!;
});

describe("feed actions", () => {
  it("gives a project owner the URL once, with the addresses each platform reads; lists never carry it", async () => {
    const name = unique("OpenNebula prod");
    const { feed, endpoints } = data(await createFeedAction(owner, { name: ` ${name} `, project: project.slug }));
    expect(feed).toMatchObject({ name, projectId: project.id, status: "active", canRevoke: true });
    expect(endpoints.url).toMatch(/\/feeds\/hgf_[A-Za-z0-9_-]{43}\/$/);
    expect(endpoints.opennebula).toBe(`${endpoints.url}opennebula/`);
    expect(endpoints.simplestreams).toBe(`${endpoints.url}streams/v1/index.json`);
    expect(endpoints.channelLookup).toBe(`${endpoints.url}channels/<image>/<channel>.json`);
    expect(await openFeed(segmentOf(endpoints.url), { address })).not.toBeNull();

    const listed = data(await listFeedsAction(owner, { project: project.slug }));
    expect(listed.map((entry) => entry.id)).toEqual([feed.id]);
    expect(listed[0]).toMatchObject({ useCount: 1, lastUsedAddress: address });
    expect(JSON.stringify(listed)).not.toContain(segmentOf(endpoints.url));
  });

  it("refuses members, outsiders, tokens and bad names, and changes nothing", async () => {
    expect(await createFeedAction(member, { name: "mine", project: project.slug })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await createFeedAction(outsider, { name: "mine", project: project.slug })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await createFeedAction(owner, { name: "everything" })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await createFeedAction(owner, { name: "  ", project: project.slug })).toMatchObject({
      ok: false,
      code: "invalid",
      fieldErrors: { name: [expect.any(String)] },
    });
    expect(await createFeedAction(owner, { name: "x".repeat(101), project: project.slug })).toMatchObject({
      ok: false,
      fieldErrors: { name: [expect.stringMatching(/100 characters/)] },
    });
    const { secret } = await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "ci",
      scope: "write",
      expiresAt: null,
    });
    const byToken = await viewerFromTokenSecret(secret, { address });
    expect(await createFeedAction(byToken, { name: "by token", project: project.slug })).toMatchObject({
      ok: false,
      code: "forbidden",
      message: expect.stringMatching(/in the browser/),
    });
    const names = data(await listFeedsAction(admin, {})).map((feed) => feed.name);
    expect(names).not.toContain("mine");
    expect(names).not.toContain("by token");
    expect(data(await listFeedsAction(member, { project: project.slug }))).toEqual([]);
  });

  it("revokes for owners and admins only; the URL stops opening at once", async () => {
    const { feed, endpoints } = data(await createFeedAction(owner, { name: "to revoke", project: project.slug }));
    expect(await revokeFeedAction(member, { id: feed.id })).toMatchObject({ ok: false, code: "not_found" });
    expect(await revokeFeedAction(outsider, { id: feed.id })).toMatchObject({ ok: false, code: "not_found" });
    expect((await getFeed({ id: feed.id }))!.revokedAt).toBeNull();
    expect(data(await revokeFeedAction(owner, { id: feed.id }))).toMatchObject({ status: "revoked", canRevoke: true });
    expect(await openFeed(segmentOf(endpoints.url), { address })).toBeNull();
  });

  it("lets only admins switch the public feed, on and off", async () => {
    expect(await setPublicFeedAction(owner, { enabled: true })).toMatchObject({ ok: false, code: "forbidden" });
    expect(data(await setPublicFeedAction(admin, { enabled: true })).endpoints.url).toMatch(/\/feeds\/public\/$/);
    expect(await openFeed("public", { address })).not.toBeNull();
    expect(await setPublicFeedAction(owner, { enabled: false })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await openFeed("public", { address })).not.toBeNull();
    expect(data(await setPublicFeedAction(admin, { enabled: false })).enabled).toBe(false);
    expect(await openFeed("public", { address })).toBeNull();
    expect(data(await setPublicFeedAction(admin, { enabled: false })).enabled).toBe(false);
  });

  it("saves publishing for owners with a checked template; members and bad values change nothing", async () => {
    const image = await createTestImage({ projectId: project.id });
    const vmTemplate = { ...defaultVmTemplate, vcpu: 4, memoryMiB: 4096, firmware: "uefi" as const };
    const input = { imageId: image.id, published: true, channels: ["latest"], vmTemplate };
    expect(await setImagePublishingAction(member, input)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await setImagePublishingAction(outsider, input)).toMatchObject({ ok: false, code: "not_found" });
    const refused = [
      { ...input, vmTemplate: { ...vmTemplate, vcpu: 0 } },
      { ...input, vmTemplate: { ...vmTemplate, memoryMiB: 64 } },
      { ...input, vmTemplate: { ...vmTemplate, diskBus: "nvme" } },
      { ...input, channels: [] },
      { ...input, channels: ["Stable!"] },
      { ...input, channels: ["stable"] },
    ];
    const fields = [];
    for (const bad of refused) {
      const result = await setImagePublishingAction(owner, bad);
      expect(result).toMatchObject({ ok: false, code: "invalid" });
      fields.push(Object.keys((!result.ok && result.fieldErrors) || {})[0]);
    }
    expect(fields).toEqual([
      "vmTemplate.vcpu",
      "vmTemplate.memoryMiB",
      "vmTemplate.diskBus",
      "channels",
      "channels.0",
      "channels",
    ]);
    const [untouched] = await db().select({ published: images.published }).from(images).where(eq(images.id, image.id));
    expect(untouched!.published).toBe(false);

    const badlyNamed = await createTestImage({ projectId: project.id, name: "Debian: base; #1" });
    expect(await setImagePublishingAction(owner, { ...input, imageId: badlyNamed.id })).toMatchObject({
      ok: false,
      code: "invalid",
      message: expect.stringMatching(/OpenNebula does not allow .*rename the image/),
    });
    expect(
      data(await setImagePublishingAction(owner, { ...input, imageId: badlyNamed.id, published: false })),
    ).toMatchObject({ published: false });

    expect(data(await setImagePublishingAction(owner, input))).toEqual({
      published: true,
      publishedChannels: ["latest"],
      vmTemplate,
    });
  });
});
