// Builds and the project quota, on the real database, qemu-img and blob store: a build reserves
// room when it is requested and is refused, saying how much it needs and how much is free, when
// there is none; "grow the disk to" has an admin-set bound; and an output that no longer fits when
// it is done ends the build failed with the reason, keeping no version and no blob.
import { execFile } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { finishBuild, queueBuild } from "@/db/queries/builds";
import { createReadyVersion } from "@/db/queries/images";
import { saveRecipe } from "@/db/queries/recipes";
import { projectUsage } from "@/db/queries/storage-usage";
import type { Viewer } from "@/db/queries/users";
import { builds, imageVersions, projects } from "@/db/schema";
import { saveRecipeAction, startBuildAction as startBuild } from "@/lib/actions/recipe-actions";
import { env } from "@/lib/env";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf, storeTestBlob } from "@/tests/fixtures";
import { runBuild } from "./engine";

// The end-of-build check is about sizes, not about what virt-customize does to the guest, so this
// file spares the appliance launch (tens of seconds under TCG): the overlay, the conversion, the
// inspection and the blob store are real, the customization is `true`. Set before the engine loads.
vi.hoisted(() => {
  process.env.HANGAR_VIRT_CUSTOMIZE = "true";
});

const run = promisify(execFile);
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

let member: Viewer;
const queued: string[] = [];

/** A project of its own with this quota, a base the member may build on, and an output image. */
async function projectWithQuota(
  quotaBytes: number,
  base?: { sha256: string; sha512: string; size: number; virtualSize: number },
) {
  const project = await createTestProject({ members: [{ viewer: member, role: "member" }] });
  await db().update(projects).set({ quotaBytes }).where(eq(projects.id, project.id));
  const baseImage = await createTestImage({
    projectId: project.id,
    versions: base ? [] : [{ version: "1.0", releaseStatus: "approved", virtualSize: 64 * MiB }],
  });
  if (base) {
    await db().transaction((tx) =>
      createReadyVersion({
        tx,
        actorId: null,
        values: {
          imageId: baseImage.id,
          version: "1.0",
          format: "qcow2",
          virtualSize: base.virtualSize,
          fileSize: base.size,
          sha256: base.sha256,
          sha512: base.sha512,
          releaseStatus: "approved",
          source: "upload",
        },
      }),
    );
  }
  const output = await createTestImage({ projectId: project.id, versions: [] });
  const viewer = (await viewerOf(member.id))!;
  const document = (output_: Partial<RecipeDocument["output"]> = {}): RecipeDocument => ({
    name: unique("recipe"),
    description: "",
    base: { image: baseImage.slug, version: "1.0" },
    steps: [{ type: "write", path: "/etc/quota", content: "checked" }],
    output: { image: output.slug, format: "qcow2", ...output_ },
  });
  return { projectId: project.id, viewer, document };
}

async function storedBlobs(): Promise<string[]> {
  const names: string[] = [];
  for await (const sha256 of getBlobStore().list()) names.push(sha256);
  return names.sort();
}

const buildCount = async (recipeId: string) =>
  (await db().select({ n: count() }).from(builds).where(eq(builds.recipeId, recipeId)))[0]!.n;

beforeAll(async () => {
  member = await createTestUser();
});

afterAll(async () => {
  // Nothing queued here may reach a worker of a later test file.
  for (const buildId of queued) await finishBuild(buildId, { status: "cancelled", failureReason: "quota test" });
});

describe("when a build is requested", () => {
  it("refuses a build whose project has no room, saying how much it needs and how much is free", async () => {
    // The fixture base stores 1 MiB of the quota; a qcow2 output on it holds at least as much.
    const { projectId, viewer, document } = await projectWithQuota(1.5 * MiB);
    const saved = await saveRecipe({ viewer, projectId, document: document() });
    const result = await startBuild(viewer, { recipeId: saved.recipeId });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok)
      expect(result.message).toMatch(
        /^This build needs 1 MiB but Project .* has 512 KiB of its 1.5 MiB quota free\. Free 512 KiB \(delete old versions\) or ask an admin for more quota\. Nothing was created\.$/,
      );
    expect(await buildCount(saved.recipeId)).toBe(0);
  });

  it("holds the room while the build waits, so a second build that would not fit beside it is refused", async () => {
    // The base uses 1 MiB of the quota; a raw output holds its whole 64 MiB virtual size.
    const { projectId, viewer, document } = await projectWithQuota(1 * MiB + 64 * MiB + 32 * MiB);
    const saved = await saveRecipe({ viewer, projectId, document: document({ format: "raw" }) });
    const first = await queueBuild({ viewer, recipeId: saved.recipeId, force: true, send: async () => "not-sent" });
    if (!first.queued) throw new Error("expected a queued build");
    queued.push(first.buildId);
    expect(
      (await db().select({ reservedBytes: builds.reservedBytes }).from(builds).where(eq(builds.id, first.buildId)))[0]!
        .reservedBytes,
    ).toBe(64 * MiB);
    const second = await startBuild(viewer, { recipeId: saved.recipeId, force: true });
    expect(second).toMatchObject({ ok: false, code: "invalid" });
    if (!second.ok)
      expect(second.message).toMatch(/^This build needs 64 MiB but .* has 32 MiB of its 97 MiB quota free/);
    expect(await buildCount(saved.recipeId)).toBe(1);
  });

  it("refuses a grown disk that does not fit the quota, even when the grown size is within the bound", async () => {
    const { projectId, viewer, document } = await projectWithQuota(10 * GiB);
    const saved = await saveRecipeAction(viewer, { projectId, document: document({ growTo: "20G" }) });
    if (!saved.ok) throw new Error(saved.message);
    const result = await startBuild(viewer, { recipeId: saved.data.recipeId });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok)
      expect(result.message).toMatch(/^This build needs 20 GiB but .* has [0-9.]+ GiB of its 10 GiB quota free/);
    expect(await buildCount(saved.data.recipeId)).toBe(0);
  });
});

describe("growing the disk", () => {
  it("refuses a size above the admins' bound when the recipe is saved, naming the bound", async () => {
    expect(env().HANGAR_MAX_GROW_SIZE).toBe(256 * GiB);
    const { projectId, viewer, document } = await projectWithQuota(1024 * GiB);
    const result = await saveRecipeAction(viewer, { projectId, document: document({ growTo: "257G" }) });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok) {
      expect(result.fieldErrors?.["document.output.growTo"]).toEqual([
        "Grow the disk to at most 256 GiB: that is this Hangar's limit (HANGAR_MAX_GROW_SIZE, set by an admin).",
      ]);
    }
    expect(await saveRecipeAction(viewer, { projectId, document: document({ growTo: "256G" }) })).toMatchObject({
      ok: true,
    });
  });

  it("refuses to build a saved revision whose size is above the bound now (an admin lowered it)", async () => {
    const { projectId, viewer, document } = await projectWithQuota(1024 * GiB);
    // Saved before the bound was lowered: the data layer keeps what the form accepted then.
    const saved = await saveRecipe({ viewer, projectId, document: document({ growTo: "300G" }) });
    const result = await startBuild(viewer, { recipeId: saved.recipeId });
    expect(result).toMatchObject({
      ok: false,
      code: "invalid",
      fieldErrors: { "output.growTo": [expect.stringMatching(/at most 256 GiB/)] },
    });
    expect(await buildCount(saved.recipeId)).toBe(0);
  });
});

/** A real, empty qcow2 of `virtualSize` in the blob store, to build on. */
async function storedEmptyDisk(virtualSize: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-build-quota-"));
  const file = path.join(dir, "base.qcow2");
  await run("qemu-img", ["create", "-q", "-f", "qcow2", file, String(virtualSize)]);
  const hashes = await storeTestBlob(file);
  return { ...hashes, virtualSize };
}

describe("when the output is done", () => {
  it("lands an output that fits, and its real size replaces the reservation", async () => {
    const { projectId, viewer, document } = await projectWithQuota(1 * GiB, await storedEmptyDisk(24 * MiB));
    const saved = await saveRecipe({ viewer, projectId, document: document({ format: "raw" }) });
    const request = await queueBuild({ viewer, recipeId: saved.recipeId, force: true, send: async () => "not-sent" });
    if (!request.queued) throw new Error("expected a queued build");
    queued.push(request.buildId);
    expect(await projectUsage(db(), projectId)).toMatchObject({ reservedBytes: 24 * MiB });
    await runBuild({ buildId: request.buildId });
    const [done] = await db().select().from(builds).where(eq(builds.id, request.buildId));
    expect(done).toMatchObject({ status: "succeeded", failureReason: null });
    const usage = await projectUsage(db(), projectId);
    expect(usage.reservedBytes).toBe(0);
    expect(usage.usedBytes).toBeGreaterThanOrEqual(24 * MiB);
  }, 120_000);

  it("fails the build with how much the output needs when it no longer fits, and keeps no version and no blob", async () => {
    const { projectId, viewer, document } = await projectWithQuota(1 * GiB, await storedEmptyDisk(32 * MiB));
    const saved = await saveRecipe({ viewer, projectId, document: document({ format: "raw" }) });
    const request = await queueBuild({ viewer, recipeId: saved.recipeId, force: true, send: async () => "not-sent" });
    if (!request.queued) throw new Error("expected a queued build");
    queued.push(request.buildId);
    // An admin lowered the quota while the build waited for a worker.
    await db()
      .update(projects)
      .set({ quotaBytes: 16 * MiB })
      .where(eq(projects.id, projectId));
    const blobsBefore = await storedBlobs();

    await runBuild({ buildId: request.buildId });

    const [done] = await db().select().from(builds).where(eq(builds.id, request.buildId));
    expect(done!.status).toBe("failed");
    expect(done!.failureReason).toMatch(
      /^This build's output needs 32 MiB but .* has [0-9.]+ MiB of its 16 MiB quota free\. .* Nothing was created\.$/,
    );
    expect(done!.outputVersionId).toBeNull();
    expect(
      await db().select({ id: imageVersions.id }).from(imageVersions).where(eq(imageVersions.buildId, request.buildId)),
    ).toEqual([]);
    // The raw output's bytes were stored before the check refused them; they went again.
    expect(await storedBlobs()).toEqual(blobsBefore);
    expect(await readdir(path.join(env().dataDir, "builds")).catch(() => [])).not.toContain(request.buildId);
  }, 120_000);
});
