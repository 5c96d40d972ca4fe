// /api/v1 images, versions, channels and projects, called as Next calls the route handlers, with
// real tokens on the real database: paging visits everything exactly once, filters filter, and
// every kind of bad request is refused clearly without changing anything.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { images } from "@/db/schema";
import { createWorld, realVersion } from "@/tests/authorization-world";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { issueApiToken } from "./tokens";

vi.mock("@/lib/auth/session", () => ({ getViewer: async () => null }));

type Handler<P> = (request: Request, context: { params: Promise<P> }) => Promise<Response>;

const imagesRoute = await import("@/app/api/v1/images/route");
const imageRoute = await import("@/app/api/v1/images/[slug]/route");
const imageVersionsRoute = await import("@/app/api/v1/images/[slug]/versions/route");
const imageVersionRoute = await import("@/app/api/v1/images/[slug]/versions/[version]/route");
const channelsRoute = await import("@/app/api/v1/images/[slug]/channels/route");
const channelRoute = await import("@/app/api/v1/images/[slug]/channels/[channel]/route");
const versionsRoute = await import("@/app/api/v1/versions/route");
const versionRoute = await import("@/app/api/v1/versions/[id]/route");
const projectsRoute = await import("@/app/api/v1/projects/route");
const projectRoute = await import("@/app/api/v1/projects/[slug]/route");
const membersRoute = await import("@/app/api/v1/projects/[slug]/members/route");
const projectClonesRoute = await import("@/app/api/v1/projects/[slug]/clones/route");
const conversionsRoute = await import("@/app/api/v1/versions/[id]/conversions/route");
const clonesRoute = await import("@/app/api/v1/versions/[id]/clones/route");

async function call<P>(
  handler: Handler<P>,
  {
    params,
    token,
    query = {},
    method = "GET",
    body,
  }: { params?: P; token?: string; query?: Record<string, string>; method?: string; body?: unknown },
): Promise<{ status: number; json: Record<string, unknown> & { error?: ErrorBody } }> {
  const url = new URL("http://hangar.test/api/v1/x");
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const response = await handler(
    new Request(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    }),
    { params: Promise.resolve((params ?? {}) as P) },
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

interface ErrorBody {
  code: string;
  message: string;
  fields?: Record<string, string[]>;
}
interface Listed {
  items: { id: string; [key: string]: unknown }[];
  nextCursor: string | null;
}

/** Every item of a list, page by page, following nextCursor. */
async function pageThrough<P>(handler: Handler<P>, token: string, query: Record<string, string>, params?: P) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const { status, json } = await call(handler, {
      params,
      token,
      query: { ...query, ...(cursor ? { cursor } : {}) },
    });
    expect(status, JSON.stringify(json)).toBe(200);
    const page = json as unknown as Listed;
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { ids, pages };
}

const tokenFor = async (userId: string, scope: "read" | "write") =>
  (await issueApiToken({ userId, projectId: null, projectRole: null, name: scope, scope, expiresAt: null })).secret;

let project: { id: string; slug: string };
let otherProject: { id: string; slug: string };
let imageSlugs: string[];
let read: string;
let write: string;
let outsider: string;

beforeAll(async () => {
  const owner = await createTestUser();
  const stranger = await createTestUser();
  project = await createTestProject({ members: [{ viewer: owner, role: "owner" }] });
  otherProject = await createTestProject({ members: [{ viewer: owner, role: "member" }] });
  imageSlugs = [];
  for (let index = 0; index < 3; index += 1)
    imageSlugs.push(
      (
        await createTestImage({
          projectId: project.id,
          tags: ["api-test"],
          versions: [
            { version: "1.0" },
            { version: "1.1", releaseStatus: "pending_review" },
            { version: "1.2", format: "raw" },
          ],
        })
      ).slug,
    );
  read = await tokenFor(owner.id, "read");
  write = await tokenFor(owner.id, "write");
  outsider = await tokenFor(stranger.id, "read");
});

describe("lists page through everything exactly once", () => {
  it("GET /api/v1/versions: a project's nine versions, two a page, newest first", async () => {
    const { ids, pages } = await pageThrough(versionsRoute.GET, read, { project: project.slug, limit: "2" });
    expect(pages).toBe(5);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);
    const all = await call(versionsRoute.GET, { token: read, query: { project: project.slug, limit: "50" } });
    const items = (all.json as unknown as Listed).items;
    expect(items.map((item) => item.id)).toEqual(ids);
    const created = items.map((item) => Date.parse(String(item.createdAt)));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  it("GET /api/v1/versions filters by image, status and format", async () => {
    const byImage = await pageThrough(versionsRoute.GET, read, { image: imageSlugs[0]!, limit: "1" });
    expect(byImage.ids).toHaveLength(3);
    const pending = await call(versionsRoute.GET, {
      token: read,
      query: { project: project.slug, status: "pending_review" },
    });
    const pendingItems = (pending.json as unknown as Listed).items;
    expect(pendingItems).toHaveLength(3);
    expect(pendingItems.every((item) => item.releaseStatus === "pending_review" && item.version === "1.1")).toBe(true);
    const raw = await call(versionsRoute.GET, { token: read, query: { project: project.slug, format: "raw" } });
    expect((raw.json as unknown as Listed).items.map((item) => item.version)).toEqual(["1.2", "1.2", "1.2"]);
    const version = (raw.json as unknown as Listed).items[0]!;
    expect(version).toMatchObject({
      image: { slug: expect.any(String), name: expect.any(String) },
      dataStatus: "ready",
      source: "upload",
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      downloadUrl: expect.stringMatching(new RegExp(`/api/v1/versions/${version.id}/download$`)),
      boot: null,
      failureReason: null,
    });
  });

  it("GET /api/v1/images with the catalog's filters, one a page", async () => {
    const { ids } = await pageThrough(imagesRoute.GET, read, { project: project.slug, tag: "api-test", limit: "1" });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    const byName = await pageThrough(imagesRoute.GET, read, { project: project.slug, sort: "name", limit: "2" });
    expect(new Set(byName.ids)).toEqual(new Set(ids));
    const first = await call(imagesRoute.GET, { token: read, query: { project: project.slug, limit: "1" } });
    const item = (first.json as unknown as Listed).items[0]!;
    expect(item).toMatchObject({
      project: { id: project.id, slug: project.slug },
      tags: ["api-test"],
      latestVersion: { id: expect.any(String), version: "1.2" },
    });
  });

  it("GET /api/v1/images/{slug}/versions and /projects page too", async () => {
    const versions = await pageThrough(imageVersionsRoute.GET, read, { limit: "1" }, { slug: imageSlugs[1]! });
    expect(versions.ids).toHaveLength(3);
    const projects = await pageThrough(projectsRoute.GET, read, { limit: "1" });
    expect(projects.ids).toEqual(expect.arrayContaining([project.id, otherProject.id]));
    expect(projects.ids).toHaveLength(2);
  });

  it("refuses a tampered cursor, another list's cursor and an unknown parameter", async () => {
    const first = await call(versionsRoute.GET, { token: read, query: { project: project.slug, limit: "2" } });
    const cursor = String((first.json as unknown as Listed).nextCursor);
    const [body, signature] = cursor.split(".");
    const tampered = `${Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body!, "base64url").toString()), at: "x" }),
    ).toString("base64url")}.${signature}`;
    const refused = await call(versionsRoute.GET, { token: read, query: { cursor: tampered } });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "invalid", fields: { cursor: expect.any(Array) } });
    const elsewhere = await call(imagesRoute.GET, { token: read, query: { cursor } });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.json.error?.message).toMatch(/another list/);
    const typo = await call(versionsRoute.GET, { token: read, query: { projcet: project.slug } });
    expect(typo.status).toBe(400);
    expect(typo.json.error?.message).toMatch(/projcet/);
    const badImage = await call(versionsRoute.GET, { token: read, query: { image: "Not A Slug" } });
    expect(badImage.json.error).toMatchObject({ code: "invalid", message: expect.stringMatching(/image slug/) });
    const bad = await call(versionsRoute.GET, { token: read, query: { status: "shiny" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error?.fields?.status).toBeDefined();
  });
});

describe("reads", () => {
  it("an image with its channels and properties; a version by label and by id; a project and its members", async () => {
    const slug = imageSlugs[0]!;
    const image = await call(imageRoute.GET, { params: { slug }, token: read });
    expect(image.status).toBe(200);
    expect(image.json).toMatchObject({
      slug,
      description: "",
      properties: {},
      channels: [{ name: "latest", managed: true, version: "1.2" }],
    });
    const byLabel = await call(imageVersionRoute.GET, { params: { slug, version: "1.1" }, token: read });
    expect(byLabel.json).toMatchObject({ version: "1.1", releaseStatus: "pending_review", image: { slug } });
    const byId = await call(versionRoute.GET, { params: { id: String(byLabel.json.id) }, token: read });
    expect(byId.json).toEqual(byLabel.json);
    const channels = await call(channelsRoute.GET, { params: { slug }, token: read });
    expect(channels.json.items).toEqual(image.json.channels);
    const projectBody = await call(projectRoute.GET, { params: { slug: project.slug }, token: read });
    // A read token narrows the owner to a viewer, and the answer says so.
    expect(projectBody.json).toMatchObject({ id: project.id, slug: project.slug, role: "viewer" });
    const members = await call(membersRoute.GET, { params: { slug: project.slug }, token: read });
    expect((members.json.items as { role: string }[]).map((member) => member.role)).toEqual(["owner"]);
  });

  it("is a 404 to a caller who can't see it, and an empty list", async () => {
    const slug = imageSlugs[0]!;
    expect((await call(imageRoute.GET, { params: { slug }, token: outsider })).status).toBe(404);
    expect((await call(imageVersionsRoute.GET, { params: { slug }, token: outsider })).status).toBe(404);
    expect((await call(imageVersionRoute.GET, { params: { slug, version: "1.0" }, token: outsider })).status).toBe(404);
    const byLabel = await call(imageVersionRoute.GET, { params: { slug, version: "1.0" }, token: read });
    expect((await call(versionRoute.GET, { params: { id: String(byLabel.json.id) }, token: outsider })).status).toBe(
      404,
    );
    expect((await call(versionRoute.GET, { params: { id: "not-a-uuid" }, token: read })).status).toBe(404);
    expect((await call(projectRoute.GET, { params: { slug: project.slug }, token: outsider })).status).toBe(404);
    const none = await call(versionsRoute.GET, { token: outsider, query: { project: project.slug } });
    expect(none.json).toEqual({ items: [], nextCursor: null });
  });
});

describe("changes", () => {
  const imageRow = async (slug: string) => (await db().select().from(images).where(eq(images.slug, slug)))[0]!;

  it("POST /api/v1/images creates an image (201); a bad body is a 400 naming its fields; a read token is a 403", async () => {
    const slug = unique("api-made");
    const made = await call(imagesRoute.POST, {
      method: "POST",
      token: write,
      body: { project: project.slug, slug, name: "Made by API", os: "Debian", osVersion: "13" },
    });
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    expect(made.json).toMatchObject({
      slug,
      name: "Made by API",
      project: { slug: project.slug },
      latestVersion: null,
    });
    const invalid = await call(imagesRoute.POST, {
      method: "POST",
      token: write,
      body: { project: project.slug, slug: "Not A Slug", name: "", os: "Debian" },
    });
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.json.error?.fields ?? {})).toEqual(expect.arrayContaining(["slug", "name"]));
    const unknown = await call(imagesRoute.POST, {
      method: "POST",
      token: write,
      body: { project: project.slug, slug: unique("x"), name: "x", os: "Debian", colour: "red" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error?.message).toMatch(/Unknown field: colour/);
    expect(unknown.json.error?.fields?.colour).toBeDefined();
    const readOnly = await call(imagesRoute.POST, {
      method: "POST",
      token: read,
      body: { project: project.slug, slug: unique("x"), name: "x", os: "Debian" },
    });
    expect(readOnly.status).toBe(403);
    const taken = await call(imagesRoute.POST, {
      method: "POST",
      token: write,
      body: { project: project.slug, slug, name: "Again", os: "Debian" },
    });
    expect(taken.status).toBe(409);
  });

  it("PATCH /api/v1/images/{slug} changes details, tags and properties together", async () => {
    const slug = imageSlugs[2]!;
    const changed = await call(imageRoute.PATCH, {
      method: "PATCH",
      params: { slug },
      token: write,
      body: {
        description: "Patched",
        addTags: ["LTS", "hardened"],
        removeTags: ["api-test"],
        setProperties: { hw_disk_bus: "virtio", os_distro: "debian" },
      },
    });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    expect(changed.json).toMatchObject({
      description: "Patched",
      properties: { hw_disk_bus: "virtio", os_distro: "debian" },
    });
    expect([...(changed.json.tags as string[])].sort()).toEqual(["hardened", "lts"]);
    const again = await call(imageRoute.PATCH, {
      method: "PATCH",
      params: { slug },
      token: write,
      body: { removeProperties: ["os_distro"], visibility: "public" },
    });
    expect(again.json).toMatchObject({ properties: { hw_disk_bus: "virtio" }, visibility: "public" });
  });

  it("a half-invalid PATCH changes nothing, names the bad part, and so do unknown fields and a read token", async () => {
    const slug = imageSlugs[1]!;
    const before = await imageRow(slug);
    const halfInvalid = await call(imageRoute.PATCH, {
      method: "PATCH",
      params: { slug },
      token: write,
      body: { name: "Would be renamed", visibility: "public", addTags: ["fine", "Not a tag!"] },
    });
    expect(halfInvalid.status).toBe(400);
    expect(halfInvalid.json.error?.fields).toHaveProperty(["addTags.1"]);
    const badProperty = await call(imageRoute.PATCH, {
      method: "PATCH",
      params: { slug },
      token: write,
      body: { name: "Would be renamed", setProperties: { "bad key!": "x" } },
    });
    expect(badProperty.status).toBe(400);
    const unknown = await call(imageRoute.PATCH, {
      method: "PATCH",
      params: { slug },
      token: write,
      body: { nmae: "typo", description: "x" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error?.message).toMatch(/Unknown field: nmae/);
    const readOnly = await call(imageRoute.PATCH, {
      method: "PATCH",
      params: { slug },
      token: read,
      body: { name: "Renamed" },
    });
    expect(readOnly.status).toBe(403);
    const notJson = await call(imageRoute.PATCH, { method: "PATCH", params: { slug }, token: write, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(await imageRow(slug)).toEqual(before);
  });

  it("PUT a channel by version label, then read it back; latest can't be moved; a pending version is refused", async () => {
    const slug = imageSlugs[0]!;
    const moved = await call(channelRoute.PUT, {
      method: "PUT",
      params: { slug, channel: "stable" },
      token: write,
      body: { version: "1.0" },
    });
    expect(moved.status, JSON.stringify(moved.json)).toBe(200);
    expect(moved.json).toMatchObject({ channel: { name: "stable", managed: false }, version: { version: "1.0" } });
    const looked = await call(channelRoute.GET, { params: { slug, channel: "stable" }, token: read });
    expect(looked.json).toEqual(moved.json);
    const latest = await call(channelRoute.PUT, {
      method: "PUT",
      params: { slug, channel: "latest" },
      token: write,
      body: { version: "1.0" },
    });
    expect(latest.status).toBe(400);
    const pending = await call(channelRoute.PUT, {
      method: "PUT",
      params: { slug, channel: "stable" },
      token: write,
      body: { version: "1.1" },
    });
    expect(pending.status).toBe(400);
    expect(pending.json.error?.message).toMatch(/approved/);
    const neither = await call(channelRoute.PUT, {
      method: "PUT",
      params: { slug, channel: "stable" },
      token: write,
      body: {},
    });
    expect(neither.status).toBe(400);
    expect((await call(channelsRoute.GET, { params: { slug }, token: read })).json.items).toEqual([
      expect.objectContaining({ name: "latest" }),
      expect.objectContaining({ name: "stable", version: "1.0" }),
    ]);
  });
});

describe("conversions and clones", () => {
  it("POST a conversion (202), a clone (202 Clone), then the project's clones page by cursor", async () => {
    const world = await createWorld();
    const owner = world.callers.owner!;
    const ownerWrite = await tokenFor(owner.id, "write");
    const ownerRead = await tokenFor(owner.id, "read");
    const source = await realVersion(world, { projectId: world.project.id });
    const conversion = await call(conversionsRoute.POST, {
      method: "POST",
      params: { id: source.versionId },
      token: ownerWrite,
      body: { format: "raw" },
    });
    expect(conversion.status, JSON.stringify(conversion.json)).toBe(202);
    expect(conversion.json).toEqual({ format: "raw", status: "queued" });
    const badFormat = await call(conversionsRoute.POST, {
      method: "POST",
      params: { id: source.versionId },
      token: ownerWrite,
      body: { format: "iso" },
    });
    expect(badFormat.status).toBe(400);
    expect(badFormat.json.error?.fields?.format).toBeDefined();

    const made: string[] = [];
    for (const index of [1, 2, 3]) {
      const clone = await call(clonesRoute.POST, {
        method: "POST",
        params: { id: source.versionId },
        token: ownerWrite,
        body: {
          project: world.project.slug,
          newImageSlug: unique(`api-clone-${index}`),
          version: "1.0",
          mode: "linked",
        },
      });
      expect(clone.status, JSON.stringify(clone.json)).toBe(202);
      expect(clone.json).toMatchObject({
        source: { versionId: source.versionId, imageSlug: source.imageSlug, version: "1.0" },
        target: { version: "1.0" },
        mode: "linked",
        project: { slug: world.project.slug },
      });
      made.push(String(clone.json.id));
    }
    const both = await call(clonesRoute.POST, {
      method: "POST",
      params: { id: source.versionId },
      token: ownerWrite,
      body: {
        project: world.project.slug,
        image: source.imageSlug,
        newImageSlug: unique("x"),
        version: "2.0",
        mode: "linked",
      },
    });
    expect(both.status).toBe(400);
    const { ids } = await pageThrough(projectClonesRoute.GET, ownerRead, { limit: "2" }, { slug: world.project.slug });
    expect(ids).toEqual([...made].reverse());
  });
});
