// Lineage and freshness on the real database: the chain in both directions, hidden versions kept
// anonymous, out-of-date once the base gets a newer approved version, and rebuild on the new base.
import { randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { blobs, builds, imageVersions, recipeRevisions } from "@/db/schema";
import { rebuildAction, saveRecipeAction } from "@/lib/actions/recipe-actions";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import { listCatalogVersions } from "./catalog";
import { getLineage, getNewerBase } from "./lineage";
import { listPendingReviews } from "./releases";
import type { Viewer } from "./users";

let member: Viewer;
let stranger: Viewer;
let projectId: string;
const ids: Record<string, string> = {};
let baseImageId: string;
let derivedImageId: string;
let baseSlug: string;
let derivedSlug: string;
const queued: string[] = [];

async function addVersion(
  imageId: string,
  version: string,
  releaseStatus: "approved" | "pending_review",
  parent?: string,
  createdAt = new Date(),
) {
  const sha256 = randomBytes(32).toString("hex");
  await db()
    .insert(blobs)
    .values({ sha256, sha512: randomBytes(64).toString("hex"), size: 1 });
  const [row] = await db()
    .insert(imageVersions)
    .values({
      imageId,
      version,
      source: parent ? "build" : "upload",
      dataStatus: "ready",
      releaseStatus,
      format: "qcow2",
      sha256,
      parentVersionId: parent ?? null,
      createdAt,
    })
    .returning({ id: imageVersions.id });
  return row!.id;
}

beforeAll(async () => {
  member = await createTestUser();
  stranger = await createTestUser();
  projectId = (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id;
  const otherProject = (await createTestProject({ members: [{ viewer: stranger, role: "owner" }] })).id;
  member = (await viewerOf(member.id))!;
  const base = await createTestImage({ projectId, visibility: "public", versions: [] });
  const derived = await createTestImage({ projectId, versions: [] });
  const hidden = await createTestImage({ projectId: otherProject, versions: [] });
  baseImageId = base.id;
  derivedImageId = derived.id;
  baseSlug = base.slug;
  derivedSlug = derived.slug;
  ids.b1 = await addVersion(base.id, "1", "approved", undefined, new Date(Date.now() - 60_000));
  ids.d1 = await addVersion(derived.id, "1", "pending_review", ids.b1, new Date(Date.now() - 50_000));
  ids.h1 = await addVersion(hidden.id, "secret", "approved", ids.d1, new Date(Date.now() - 40_000));
});

afterAll(async () => {
  if (queued.length) await db().update(builds).set({ status: "cancelled" }).where(inArray(builds.id, queued));
});

describe("lineage", () => {
  it("returns the chain up to the root and every descendant, with the hidden ones anonymous", async () => {
    const lineage = (await getLineage({ viewer: member, versionId: ids.d1! }))!;
    expect(lineage.ancestry).toEqual([ids.b1, ids.d1]);
    expect(lineage.edges).toEqual(
      expect.arrayContaining([
        { from: ids.b1, to: ids.d1 },
        { from: ids.d1, to: ids.h1 },
      ]),
    );
    const hidden = lineage.nodes.find((node) => node.id === ids.h1)!;
    expect(hidden).toMatchObject({ imageSlug: null, version: null, releaseStatus: null });
    expect(lineage.nodes.find((node) => node.current)).toMatchObject({
      id: ids.d1,
      imageSlug: derivedSlug,
      releaseStatus: "pending_review",
    });
  });

  it("is not available for a version the viewer can't see", async () => {
    expect(await getLineage({ viewer: stranger, versionId: ids.d1! })).toBeNull();
  });
});

describe("freshness", () => {
  it("turns out of date when the base image gets a newer approved version, and offers a rebuild on it", async () => {
    expect(await getNewerBase({ versionId: ids.d1! })).toBeNull();
    const outOfDate = async () =>
      (
        await listCatalogVersions({
          viewer: member,
          freshness: "out_of_date",
          q: undefined,
          sort: "updated",
          order: "desc",
          limit: 100,
          project: undefined,
        })
      ).rows.map((row) => row.id);
    expect(await outOfDate()).not.toContain(ids.d1);
    await addVersion(baseImageId, "2-pending", "pending_review");
    expect(await getNewerBase({ versionId: ids.d1! })).toBeNull(); // only approved versions count
    ids.b2 = await addVersion(baseImageId, "2", "approved");
    expect(await getNewerBase({ versionId: ids.d1! })).toMatchObject({
      imageSlug: baseSlug,
      version: "2",
      parentVersion: "1",
    });
    expect(await outOfDate()).toContain(ids.d1);
    const lineage = (await getLineage({ viewer: member, versionId: ids.d1! }))!;
    expect(lineage.nodes.find((node) => node.id === ids.d1)!.outOfDate).toBe(true);
  });

  it("rebuilds a pinned recipe on the newest approved base as a new revision, through review again", async () => {
    const saved = await saveRecipeAction(member, {
      projectId,
      document: {
        name: unique("rebuild"),
        base: { image: baseSlug, version: "1" },
        steps: [{ type: "mkdir", path: "/opt/x" }],
        output: { image: derivedSlug, format: "qcow2" },
      },
    });
    if (!saved.ok) throw new Error(saved.message);
    await db()
      .update(imageVersions)
      .set({ recipeRevisionId: saved.data.revisionId })
      .where(eq(imageVersions.id, ids.d1!));
    expect(await rebuildAction(stranger, { versionId: ids.d1! })).toMatchObject({ ok: false });
    const result = await rebuildAction(member, { versionId: ids.d1! });
    if (!result.ok || !result.data.queued) throw new Error(result.ok ? "not queued" : result.message);
    queued.push(result.data.buildId);
    const [build] = await db()
      .select({ revision: recipeRevisions.revision, baseVersionId: builds.baseVersionId })
      .from(builds)
      .innerJoin(recipeRevisions, eq(recipeRevisions.id, builds.revisionId))
      .where(eq(builds.id, result.data.buildId));
    expect(build).toEqual({ revision: 2, baseVersionId: ids.b2 });

    // In the review queue, the next build into the same image shows what changed since this one.
    const [revision2] = await db()
      .select({ id: recipeRevisions.id })
      .from(recipeRevisions)
      .where(and(eq(recipeRevisions.recipeId, saved.data.recipeId), eq(recipeRevisions.revision, 2)));
    const d2 = await addVersion(derivedImageId, "2", "pending_review", ids.b2);
    await db().update(imageVersions).set({ recipeRevisionId: revision2!.id }).where(eq(imageVersions.id, d2));
    const queued2 = (await listPendingReviews()).find((item) => item.id === d2)!;
    expect(queued2.previousBuild).toMatchObject({ version: "1", revision: 1 });
    expect(queued2.revisionDocument).toMatchObject({ base: { image: baseSlug, version: "2" } });
  });
});
