import { eq, inArray, sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { auditEvents, images } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import {
  changeTagAction as changeTag,
  removePropertyAction as removeProperty,
  setPropertyAction as setProperty,
  setVisibilityAction as setVisibility,
  updateImageDetailsAction as updateImageDetails,
} from "./image-actions";

let admin: Viewer;
let owner: Viewer;
let member: Viewer;
let projectViewer: Viewer;
let outsider: Viewer;
let imageA: { id: string };
let imageB: { id: string };
let othersPrivate: { id: string };

async function snapshot(ids: string[]) {
  const rows = await db()
    .select({
      id: images.id,
      tags: images.tags,
      name: images.name,
      visibility: images.visibility,
      properties: images.properties,
      updatedAt: images.updatedAt,
    })
    .from(images)
    .where(inArray(images.id, ids))
    .orderBy(images.id);
  const [audit] = await db()
    .select({ count: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(inArray(auditEvents.objectId, ids));
  return { rows, auditCount: audit?.count };
}

beforeEach(async () => {
  admin = await createTestUser({ role: "admin" });
  owner = await createTestUser();
  member = await createTestUser();
  projectViewer = await createTestUser();
  outsider = await createTestUser();
  const project = await createTestProject({
    members: [
      { viewer: owner, role: "owner" },
      { viewer: member, role: "member" },
      { viewer: projectViewer, role: "viewer" },
    ],
  });
  const otherProject = await createTestProject({ members: [{ viewer: outsider, role: "owner" }] });
  imageA = await createTestImage({ projectId: project.id, tags: ["base"], visibility: "public" });
  imageB = await createTestImage({ projectId: project.id, tags: [] });
  othersPrivate = await createTestImage({ projectId: otherProject.id, tags: ["secret"] });
});

const tagsOf = async (id: string) =>
  (await db().select({ tags: images.tags }).from(images).where(eq(images.id, id)))[0]?.tags;

describe("tagging", () => {
  it("lets a project member add and remove a tag, with an audit event for each change", async () => {
    const tag = unique("t");
    const added = await changeTag(member, { imageIds: [imageA.id, imageB.id], tag, op: "add" });
    expect(added).toMatchObject({ ok: true, data: { changed: 2 } });
    expect(await tagsOf(imageA.id)).toEqual(["base", tag]);
    expect(await tagsOf(imageB.id)).toEqual([tag]);

    const again = await changeTag(member, { imageIds: [imageA.id], tag, op: "add" });
    expect(again).toMatchObject({ ok: true, data: { changed: 0 } });

    const removed = await changeTag(member, { imageIds: [imageA.id], tag, op: "remove" });
    expect(removed).toMatchObject({ ok: true, data: { changed: 1 } });
    expect(await tagsOf(imageA.id)).toEqual(["base"]);

    const events = await db()
      .select({ action: auditEvents.action, actorId: auditEvents.actorId })
      .from(auditEvents)
      .where(inArray(auditEvents.action, ["image.tag_add", "image.tag_remove"]))
      .orderBy(auditEvents.id);
    const mine = events.filter((event) => event.actorId === member.id);
    expect(mine.map((event) => event.action)).toEqual(["image.tag_add", "image.tag_add", "image.tag_remove"]);
  });

  it("normalises case and refuses odd characters and oversized tags with a reason", async () => {
    const ok = await changeTag(member, { imageIds: [imageB.id], tag: "  LTS ", op: "add" });
    expect(ok.ok).toBe(true);
    expect(await tagsOf(imageB.id)).toEqual(["lts"]);
    for (const tag of ["has space", "<script>", "-leading", "", "x".repeat(41), "ünïcode", "a,b"]) {
      const result = await changeTag(member, { imageIds: [imageB.id], tag, op: "add" });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe("invalid");
        expect(result.message).toMatch(/tag/i);
      }
    }
    expect(await tagsOf(imageB.id)).toEqual(["lts"]);
  });

  it("refuses a member of another project, even for an image they can see, and changes nothing", async () => {
    const before = await snapshot([imageA.id]);
    const result = await changeTag(outsider, { imageIds: [imageA.id], tag: "hijacked", op: "add" });
    expect(result).toMatchObject({ ok: false, code: "forbidden" });
    expect(await snapshot([imageA.id])).toEqual(before);
  });

  it("refuses a project viewer", async () => {
    const result = await changeTag(projectViewer, { imageIds: [imageA.id], tag: "nope", op: "add" });
    expect(result).toMatchObject({ ok: false, code: "forbidden" });
  });

  it("refuses a whole bulk request when one image is not the caller's, leaving every image untouched", async () => {
    const ids = [imageA.id, imageB.id, othersPrivate.id];
    const before = await snapshot(ids);
    const result = await changeTag(member, { imageIds: ids, tag: "bulk", op: "add" });
    // The refused one is another project's private image: the caller doesn't learn it exists.
    expect(result).toMatchObject({ ok: false, code: "not_found" });
    if (!result.ok) expect(result.message).toMatch(/1 of the selected|can't change/);
    expect(await snapshot(ids)).toEqual(before);
  });

  it("refuses another user's private image id sent straight to the action", async () => {
    const before = await snapshot([othersPrivate.id]);
    const result = await changeTag(member, { imageIds: [othersPrivate.id], tag: "secret", op: "remove" });
    expect(result).toMatchObject({ ok: false, code: "not_found" });
    expect(await snapshot([othersPrivate.id])).toEqual(before);
  });

  it("refuses unknown and malformed ids, and unauthenticated callers", async () => {
    expect(
      await changeTag(member, { imageIds: ["00000000-0000-4000-8000-000000000000"], tag: "x", op: "add" }),
    ).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await changeTag(member, { imageIds: ["1 or 1=1"], tag: "x", op: "add" })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await changeTag(member, { imageIds: [], tag: "x", op: "add" })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await changeTag(member, { imageIds: [imageA.id], tag: "x", op: "explode" })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await changeTag(null, { imageIds: [imageA.id], tag: "x", op: "add" })).toMatchObject({
      ok: false,
      code: "unauthenticated",
    });
    expect(await tagsOf(imageA.id)).toEqual(["base"]);
  });

  it("lets an admin tag any image", async () => {
    expect(await changeTag(admin, { imageIds: [othersPrivate.id], tag: "audited", op: "add" })).toMatchObject({
      ok: true,
    });
    expect(await tagsOf(othersPrivate.id)).toEqual(["secret", "audited"]);
  });
});

describe("details, properties and visibility", () => {
  const details = {
    name: "Renamed",
    description: "# Hello\n\nNew text",
    os: "Debian",
    osVersion: "12",
    arch: "x86_64",
  };

  it("lets a member edit details and properties", async () => {
    expect(await updateImageDetails(member, { imageId: imageA.id, ...details })).toMatchObject({ ok: true });
    expect(await setProperty(member, { imageId: imageA.id, key: "hw_disk_bus", value: "virtio" })).toMatchObject({
      ok: true,
    });
    expect(await setProperty(member, { imageId: imageA.id, key: "os_distro", value: "debian" })).toMatchObject({
      ok: true,
    });
    expect(await removeProperty(member, { imageId: imageA.id, key: "hw_disk_bus" })).toMatchObject({ ok: true });
    const [row] = await db()
      .select({ name: images.name, properties: images.properties })
      .from(images)
      .where(eq(images.id, imageA.id));
    expect(row).toEqual({ name: "Renamed", properties: { os_distro: "debian" } });
  });

  it("returns field errors for bad details and property keys", async () => {
    const result = await updateImageDetails(member, { imageId: imageA.id, ...details, name: "", arch: "sparc" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.fieldErrors ?? {}).sort()).toEqual(["arch", "name"]);
    expect(await setProperty(member, { imageId: imageA.id, key: "bad key!", value: "x" })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await setProperty(member, { imageId: imageA.id, key: "k", value: "v".repeat(513) })).toMatchObject({
      ok: false,
      code: "invalid",
    });
  });

  it("refuses outsiders and project viewers, changing nothing", async () => {
    const before = await snapshot([imageA.id]);
    for (const caller of [outsider, projectViewer]) {
      expect(await updateImageDetails(caller, { imageId: imageA.id, ...details })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      expect(await setProperty(caller, { imageId: imageA.id, key: "k", value: "v" })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      expect(await removeProperty(caller, { imageId: imageA.id, key: "k" })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      expect(await setVisibility(caller, { imageId: imageA.id, visibility: "private" })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
    }
    expect(await snapshot([imageA.id])).toEqual(before);
  });

  it("lets only owners and admins change visibility", async () => {
    expect(await setVisibility(member, { imageId: imageB.id, visibility: "public" })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await setVisibility(owner, { imageId: imageB.id, visibility: "public" })).toMatchObject({ ok: true });
    expect(await setVisibility(admin, { imageId: othersPrivate.id, visibility: "public" })).toMatchObject({ ok: true });
    expect(await setVisibility(owner, { imageId: imageB.id, visibility: "everyone" })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    const rows = await db()
      .select({ id: images.id, visibility: images.visibility })
      .from(images)
      .where(inArray(images.id, [imageB.id, othersPrivate.id]));
    expect(rows.every((row) => row.visibility === "public")).toBe(true);
  });
});
