// Sharing on the real database: an image offered to another project shows in that project's
// catalog only after one of its owners accepted, and then only its released versions.
import { and, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { auditEvents, imageShares, images } from "@/db/schema";
import { answerShareAction, offerShareAction, withdrawShareAction } from "@/lib/actions/share-actions";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import { listCatalogImages } from "./catalog";
import { getImageBySlug, listImageVersions } from "./images";
import { listIncomingShares } from "./shares";
import type { Viewer } from "./users";

let ownerA: Viewer;
let memberA: Viewer;
let ownerB: Viewer;
let memberB: Viewer;
let outsider: Viewer;
let projectA: { id: string; slug: string };
let projectB: { id: string; slug: string };

const reload = async (viewer: Viewer) => (await viewerOf(viewer.id))!;
const shareRow = async (imageId: string, projectId: string) =>
  (
    await db()
      .select()
      .from(imageShares)
      .where(and(eq(imageShares.imageId, imageId), eq(imageShares.projectId, projectId)))
  )[0];
const seesImage = async (viewer: Viewer, slug: string) => (await getImageBySlug({ viewer, slug })) !== null;
const auditCount = async () => (await db().select({ n: count() }).from(auditEvents))[0]!.n;

beforeAll(async () => {
  [ownerA, memberA, ownerB, memberB, outsider] = await Promise.all([
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
  ]);
  projectA = await createTestProject({
    members: [
      { viewer: ownerA, role: "owner" },
      { viewer: memberA, role: "member" },
    ],
  });
  projectB = await createTestProject({
    members: [
      { viewer: ownerB, role: "owner" },
      { viewer: memberB, role: "member" },
    ],
  });
  await createTestProject({ members: [{ viewer: outsider, role: "owner" }] });
  [ownerA, memberA, ownerB, memberB, outsider] = await Promise.all([
    reload(ownerA),
    reload(memberA),
    reload(ownerB),
    reload(memberB),
    reload(outsider),
  ]);
});

// The slug holds a word PostgreSQL's text search parser reads as a number (16978e6c): the catalog
// search below once missed such images, which made this test fail whenever a random slug held one.
async function privateImage() {
  return createTestImage({
    projectId: projectA.id,
    slug: unique("img-16978e6c"),
    versions: [
      { version: "1.0", releaseStatus: "approved" },
      { version: "2.0-draft", releaseStatus: "draft" },
    ],
  });
}

describe("offering and accepting a share", () => {
  it("shows the image to the receiving project only after its owner accepted, and only released versions", async () => {
    const image = await privateImage();
    expect(await seesImage(memberB, image.slug)).toBe(false);

    expect(await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectB.slug })).toMatchObject({
      ok: true,
    });
    expect(await shareRow(image.id, projectB.id)).toMatchObject({ status: "pending", offeredById: ownerA.id });
    expect(
      (await db().select({ visibility: images.visibility }).from(images).where(eq(images.id, image.id)))[0]!.visibility,
    ).toBe("shared");
    // Pending: still invisible, but listed for the receiving project.
    expect(await seesImage(memberB, image.slug)).toBe(false);
    expect(
      (await listIncomingShares({ viewer: memberB, projectId: projectB.id })).map((row) => row.imageSlug),
    ).toContain(image.slug);

    expect(await answerShareAction(ownerB, { imageId: image.id, projectId: projectB.id, accept: true })).toMatchObject({
      ok: true,
      data: { status: "accepted" },
    });
    expect(await seesImage(memberB, image.slug)).toBe(true);
    const catalog = await listCatalogImages({
      viewer: memberB,
      q: image.slug,
      sort: "updated",
      order: "desc",
      limit: 50,
    });
    expect(catalog.rows.map((row) => row.slug)).toContain(image.slug);
    expect((await listImageVersions({ viewer: memberB, imageId: image.id })).map((row) => row.version)).toEqual([
      "1.0",
    ]);
    // Its own project still sees the draft; someone outside both still sees nothing.
    expect((await listImageVersions({ viewer: memberA, imageId: image.id })).map((row) => row.version).sort()).toEqual([
      "1.0",
      "2.0-draft",
    ]);
    expect(await seesImage(outsider, image.slug)).toBe(false);
  });

  it("lets the receiving owner decline, and the offering owner ask again or withdraw", async () => {
    const image = await privateImage();
    await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectB.slug });
    expect(await answerShareAction(ownerB, { imageId: image.id, projectId: projectB.id, accept: false })).toMatchObject(
      { ok: true, data: { status: "declined" } },
    );
    expect(await seesImage(memberB, image.slug)).toBe(false);
    expect(await answerShareAction(ownerB, { imageId: image.id, projectId: projectB.id, accept: true })).toMatchObject({
      ok: false,
      code: "conflict",
    });

    expect(await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectB.slug })).toMatchObject({
      ok: true,
    });
    expect(await shareRow(image.id, projectB.id)).toMatchObject({ status: "pending", decidedById: null });
    expect(await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectB.slug })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    await answerShareAction(ownerB, { imageId: image.id, projectId: projectB.id, accept: true });
    expect(await seesImage(memberB, image.slug)).toBe(true);

    expect(await withdrawShareAction(ownerA, { imageId: image.id, projectId: projectB.id })).toMatchObject({
      ok: true,
    });
    expect(await shareRow(image.id, projectB.id)).toBeUndefined();
    expect(await seesImage(memberB, image.slug)).toBe(false);
  });
});

describe("refusals change nothing", () => {
  it("refuses a share to a project that doesn't exist, and to the image's own project", async () => {
    const image = await privateImage();
    const before = await auditCount();
    const missing = await offerShareAction(ownerA, { imageId: image.id, projectSlug: "no-such-project-here" });
    expect(missing).toMatchObject({ ok: false, code: "not_found" });
    if (!missing.ok) expect(missing.message).toContain("There is no project called no-such-project-here");
    expect(await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectA.slug })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await db().select({ n: count() }).from(imageShares).where(eq(imageShares.imageId, image.id))).toEqual([
      { n: 0 },
    ]);
    expect(
      (await db().select({ visibility: images.visibility }).from(images).where(eq(images.id, image.id)))[0]!.visibility,
    ).toBe("private");
    expect(await auditCount()).toBe(before);
  });

  it.each([
    ["anonymous", (): Viewer | null => null, "unauthenticated"],
    ["a member (not owner) of the image's project", (): Viewer => memberA, "forbidden"],
    ["an owner of another project", () => outsider, "not_found"],
  ] as const)("refuses %s offering a share", async (_, caller, code) => {
    const image = await privateImage();
    expect(await offerShareAction(caller(), { imageId: image.id, projectSlug: projectB.slug })).toMatchObject({
      ok: false,
      code,
    });
    expect(await shareRow(image.id, projectB.id)).toBeUndefined();
  });

  it.each([
    ["a member (not owner) of the receiving project", (): Viewer => memberB, "forbidden"],
    ["the offering owner", () => ownerA, "not_found"],
    ["an owner of an unrelated project", () => outsider, "not_found"],
  ] as const)("refuses %s accepting a share", async (_, caller, code) => {
    const image = await privateImage();
    await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectB.slug });
    expect(
      await answerShareAction(caller(), { imageId: image.id, projectId: projectB.id, accept: true }),
    ).toMatchObject({ ok: false, code });
    expect(await shareRow(image.id, projectB.id)).toMatchObject({ status: "pending" });
    expect(await seesImage(memberB, image.slug)).toBe(false);
  });

  it("refuses anyone but the image's owners withdrawing a share", async () => {
    const image = await privateImage();
    await offerShareAction(ownerA, { imageId: image.id, projectSlug: projectB.slug });
    await answerShareAction(ownerB, { imageId: image.id, projectId: projectB.id, accept: true });
    expect(await withdrawShareAction(ownerB, { imageId: image.id, projectId: projectB.id })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await withdrawShareAction(memberA, { imageId: image.id, projectId: projectB.id })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await shareRow(image.id, projectB.id)).toMatchObject({ status: "accepted" });
  });
});
