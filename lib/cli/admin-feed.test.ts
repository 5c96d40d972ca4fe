import { describe, expect, it } from "vitest";
import { runAdmin } from "@/tests/admin-command";
import { openFeed, PUBLIC_FEED_SEGMENT } from "@/lib/feeds/service";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { listFeedVersions } from "@/db/queries/feeds";

const admin = runAdmin;

describe("npm run admin -- feed / publish", () => {
  it("publishes an image, makes a project feed that offers it, lists it without its secret, and revokes it", async () => {
    const boss = await createTestUser({ role: "admin" });
    const owner = await createTestUser();
    const project = await createTestProject({ members: [{ viewer: owner, role: "owner" }] });
    const image = await createTestImage({ projectId: project.id, versions: [{ version: "1.0" }] });

    const published = await admin(["publish", image.slug, "--channels", "latest,stable", "--as", boss.email]);
    expect(published.code, published.err.join("\n")).toBe(0);
    expect(published.out[0]).toContain("latest, stable");
    const name = unique("prod");
    const created = await admin(["feed", "create", "--project", project.slug, "--name", name, "--as", owner.email]);
    expect(created.code, created.err.join("\n")).toBe(0);
    const url = created.out.find((line) => line.startsWith("http"))!;
    const segment = new URL(url).pathname.split("/")[2]!;
    const opened = (await openFeed(segment, { address: null }))!;
    expect(opened.feed).toMatchObject({ name, projectId: project.id, createdById: owner.id });
    // The fixture's blobs have no md5 yet, so nothing is offered until the background job ran;
    // the image is in scope all the same.
    expect(await listFeedVersions({ viewer: opened.viewer, projectId: project.id })).toEqual([]);

    const listed = await admin(["feed", "list", "--json"]);
    expect(listed.out.join("\n")).not.toContain(segment.slice(12));
    const prefix = (JSON.parse(listed.out.join("\n")) as { id: string; prefix: string }[]).find(
      (feed) => feed.id === opened.feed.id,
    )!.prefix;
    const revoked = await admin(["feed", "revoke", prefix, "--as", boss.email]);
    expect(revoked.code, revoked.err.join("\n")).toBe(0);
    expect(await openFeed(segment, { address: null })).toBeNull();
    expect((await admin(["feed", "revoke", "nope-nope", "--as", boss.email])).code).toBe(1);

    const unpublished = await admin(["unpublish", image.slug, "--as", owner.email]);
    expect(unpublished.code).toBe(0);
    expect(unpublished.out[0]).toContain("no feed offers it");
  });

  it("refuses what the acting account may not do, and bad usage, with exit statuses", async () => {
    const stranger = await createTestUser();
    const project = await createTestProject({ members: [] });
    const image = await createTestImage({ projectId: project.id, versions: [] });
    const refused = await admin(["publish", image.slug, "--as", stranger.email]);
    expect(refused.code).toBe(1);
    expect(refused.err.join("\n")).toMatch(/doesn't exist or you can't see it/);
    expect((await admin(["publish", image.slug, "--channels", "Bad Name", "--as", stranger.email])).code).toBe(2);
    expect((await admin(["publish"])).code).toBe(2);
    expect((await admin(["feed", "create", "--as", stranger.email])).code).toBe(1);
    expect((await admin(["feed", "public", "maybe"])).code).toBe(2);
  });

  it("turns the public feed on and off", async () => {
    const boss = await createTestUser({ role: "admin" });
    expect((await admin(["feed", "public", "on", "--as", boss.email])).out[0]).toContain(
      `/feeds/${PUBLIC_FEED_SEGMENT}/`,
    );
    expect(await openFeed(PUBLIC_FEED_SEGMENT, { address: null })).not.toBeNull();
    expect((await admin(["feed", "public", "off", "--as", boss.email])).code).toBe(0);
    expect(await openFeed(PUBLIC_FEED_SEGMENT, { address: null })).toBeNull();
  });

  it("without --name, takes the default name or the first numbered one still free", async () => {
    const boss = await createTestUser({ role: "admin" });
    const project = await createTestProject({ members: [] });
    const names: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      const created = await admin(["feed", "create", "--project", project.slug, "--as", boss.email]);
      expect(created.code, created.err.join("\n")).toBe(0);
      names.push(/Created feed “([^”]+)”/.exec(created.out[0]!)![1]!);
    }
    expect(names).toEqual([`${project.slug} feed`, `${project.slug} feed 2`, `${project.slug} feed 3`]);
    const refused = await admin(["feed", "create", "--name", names[1]!, "--as", boss.email]);
    expect(refused.code).not.toBe(0);
    expect(refused.err.join("\n")).toContain("Choose another name");
  });
});
