// Recipes and builds against the real PostgreSQL and the real job queue: who may save, build and
// cancel what, and that every refusal leaves nothing saved or queued.
import { createHash } from "node:crypto";
import { count, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { builds, imageVersions, recipeRevisions, recipes } from "@/db/schema";
import {
  cancelBuildAction,
  retryBuildAction,
  saveRecipeAction,
  startBuildAction as startBuild,
} from "@/lib/actions/recipe-actions";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import { attachRecipeFile, buildFingerprint } from "./recipes";
import type { Viewer } from "./users";

let member: Viewer;
let colleague: Viewer;
let reader: Viewer;
let outsider: Viewer;
let admin: Viewer;
let projectId: string;
let baseSlug: string;
let outputSlug: string;
let foreignSlug: string;
const createdBuilds: string[] = [];

const document = (overrides: Partial<RecipeDocument> = {}): RecipeDocument => ({
  name: unique("recipe"),
  description: "",
  base: { image: baseSlug, version: "1.1" },
  steps: [{ type: "write", path: "/etc/motd", content: "hello" }],
  output: { image: outputSlug, format: "qcow2" },
  ...overrides,
});

const recipeCount = async () => (await db().select({ n: count() }).from(recipes))[0]!.n;
const buildCount = async () => (await db().select({ n: count() }).from(builds))[0]!.n;

async function saved(viewer: Viewer, doc = document()) {
  const result = await saveRecipeAction(viewer, { projectId, document: doc });
  if (!result.ok) throw new Error(result.message);
  return result.data;
}

beforeAll(async () => {
  [member, colleague, reader, outsider, admin] = await Promise.all([
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser({ role: "admin" }),
  ]);
  const project = await createTestProject({
    members: [
      { viewer: member, role: "member" },
      { viewer: colleague, role: "member" },
      { viewer: reader, role: "viewer" },
    ],
  });
  projectId = project.id;
  const other = await createTestProject({ members: [{ viewer: outsider, role: "owner" }] });
  const reload = async (viewer: Viewer) => (await viewerOf(viewer.id))!;
  [member, colleague, reader, outsider] = await Promise.all([
    reload(member),
    reload(colleague),
    reload(reader),
    reload(outsider),
  ]);
  baseSlug = (
    await createTestImage({
      projectId,
      versions: [
        { version: "1.1", releaseStatus: "approved" },
        { version: "1.2", releaseStatus: "revoked" },
        { version: "1.3", releaseStatus: "disabled" },
      ],
    })
  ).slug;
  outputSlug = (await createTestImage({ projectId, versions: [] })).slug;
  foreignSlug = (await createTestImage({ projectId: other.id, versions: [{ version: "9", releaseStatus: "draft" }] }))
    .slug;
});

afterAll(async () => {
  // Nothing here should ever reach a worker of a later test file.
  if (createdBuilds.length)
    await db().update(builds).set({ status: "cancelled" }).where(inArray(builds.id, createdBuilds));
  await db().update(builds).set({ status: "cancelled" }).where(eq(builds.status, "queued"));
});

describe("saving recipes", () => {
  it("makes a new immutable revision on every change, and none for an identical save", async () => {
    const first = await saved(member);
    expect(first).toMatchObject({ revision: 1, created: true });
    const doc = (
      await db()
        .select({ document: recipeRevisions.document })
        .from(recipeRevisions)
        .where(eq(recipeRevisions.id, first.revisionId))
    )[0]!.document as unknown as RecipeDocument;
    const same = await saveRecipeAction(member, { recipeId: first.recipeId, document: doc });
    expect(same.ok && same.data).toMatchObject({ revision: 1, created: false });
    const changed = await saveRecipeAction(colleague, {
      recipeId: first.recipeId,
      document: { ...doc, steps: [...doc.steps, { type: "mkdir", path: "/opt/app" }] },
    });
    expect(changed.ok && changed.data).toMatchObject({ revision: 2, created: true });
    const revisions = await db()
      .select({ revision: recipeRevisions.revision })
      .from(recipeRevisions)
      .where(eq(recipeRevisions.recipeId, first.recipeId));
    expect(revisions.map((row) => row.revision).sort()).toEqual([1, 2]);
  });

  it.each([
    ["a relative path", { type: "write", path: "etc/motd", content: "x" }, /absolute path/],
    ["a path with ..", { type: "delete", path: "/etc/../root" }, /“\.\.”/],
    ["an empty package name", { type: "install", packages: [""] }, /can't be empty/],
    ["shell characters in a package name", { type: "install", packages: ["curl;rm -rf /"] }, /letters, digits/],
    ["an unknown time zone", { type: "timezone", timezone: "Mars/Olympus" }, /time zone/],
    ["an over-long script", { type: "run", script: "x".repeat(64 * 1024 + 1) }, /at most 64 KiB/],
    ["a plaintext root password", { type: "root-password", policy: "password:hunter2" }, /disabled, locked or random/],
    ["an unknown step field", { type: "mkdir", path: "/opt", owner: "root" }, /Unrecognized key/i],
  ])("refuses %s with a clear message and saves nothing", async (_, step, message) => {
    const before = await recipeCount();
    const result = await saveRecipeAction(member, { projectId, document: { ...document(), steps: [step] } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe("invalid");
      expect(result.message).toMatch(message);
      expect(Object.keys(result.fieldErrors ?? {})[0]).toMatch(/^document\.steps\.0/);
    }
    expect(await recipeCount()).toBe(before);
  });

  it.each([
    ["a revoked base", () => ({ base: { image: baseSlug, version: "1.2" } }), /revoked; nobody may build on it/],
    ["a disabled base", () => ({ base: { image: baseSlug, version: "1.3" } }), /disabled; nobody may build on it/],
    [
      "a base in a project the user is not in (whose name they don't learn)",
      () => ({ base: { image: foreignSlug, version: "9" } }),
      /no base image “.*” you can use/,
    ],
    [
      "an unknown base image",
      () => ({ base: { image: "no-such-image", version: "1" } }),
      /no base image “no-such-image”/,
    ],
    ["an unknown channel", () => ({ base: { image: baseSlug, channel: "stable" } }), /no channel “stable”/],
    [
      "an output image the user may not write to",
      () => ({ output: { image: foreignSlug, format: "qcow2" as const } }),
      /can't add versions to/,
    ],
  ])("refuses %s and saves nothing", async (_, overrides, message) => {
    const before = await recipeCount();
    const result = await saveRecipeAction(member, { projectId, document: document(overrides()) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
    expect(await recipeCount()).toBe(before);
  });

  it("lets project viewers read but not save, and outsiders neither", async () => {
    const recipe = await saved(member);
    const before = await recipeCount();
    const asReader = await saveRecipeAction(reader, { projectId, document: document() });
    expect(asReader).toMatchObject({ ok: false, code: "forbidden" });
    const reviseAsReader = await saveRecipeAction(reader, { recipeId: recipe.recipeId, document: document() });
    expect(reviseAsReader).toMatchObject({ ok: false, code: "forbidden" });
    const reviseAsOutsider = await saveRecipeAction(outsider, { recipeId: recipe.recipeId, document: document() });
    expect(reviseAsOutsider).toMatchObject({ ok: false, code: "not_found" });
    expect(await saveRecipeAction(null, { projectId, document: document() })).toMatchObject({
      ok: false,
      code: "unauthenticated",
    });
    expect(await recipeCount()).toBe(before);
  });

  it("follows latest to the newest version the user may build on", async () => {
    const result = await saved(member, document({ base: { image: baseSlug, channel: "latest" } }));
    const [revision] = await db()
      .select({ baseVersionId: recipeRevisions.baseVersionId, baseChannel: recipeRevisions.baseChannel })
      .from(recipeRevisions)
      .where(eq(recipeRevisions.id, result.revisionId));
    expect(revision).toEqual({ baseVersionId: null, baseChannel: "latest" });
    const started = await startBuild(member, { recipeId: result.recipeId });
    if (!started.ok || !started.data.queued) throw new Error("expected a queued build");
    createdBuilds.push(started.data.buildId);
    const [build] = await db()
      .select({ version: imageVersions.version })
      .from(builds)
      .innerJoin(imageVersions, eq(imageVersions.id, builds.baseVersionId))
      .where(eq(builds.id, started.data.buildId));
    expect(build!.version).toBe("1.1"); // 1.2 is revoked and 1.3 disabled
  });
});

describe("attached files", () => {
  it("may only be used by recipes of the project they were attached in, never by a bare hash", async () => {
    const sha256 = createHash("sha256").update(unique("file")).digest("hex");
    const file = { sha256, sha512: "0".repeat(128), size: 12, filename: "app.conf" };
    const upload = { type: "upload" as const, path: "/etc/app.conf", blobSha256: sha256 };
    const before = await recipeCount();
    const unattached = await saveRecipeAction(member, { projectId, document: document({ steps: [upload] }) });
    expect(unattached).toMatchObject({ ok: false, code: "invalid" });
    if (!unattached.ok) expect(unattached.fieldErrors?.["document.steps.0.blobSha256"]).toBeDefined();
    await expect(attachRecipeFile({ viewer: reader, projectId, file })).rejects.toThrow(/member or owner/);
    await attachRecipeFile({ viewer: outsider, projectId: outsider.memberships[0]!.projectId, file });
    expect(await saveRecipeAction(member, { projectId, document: document({ steps: [upload] }) })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    expect(await recipeCount()).toBe(before);
    await attachRecipeFile({ viewer: member, projectId, file });
    expect(await saveRecipeAction(member, { projectId, document: document({ steps: [upload] }) })).toMatchObject({
      ok: true,
    });
  });
});

describe("building", () => {
  it("refuses to build another project's recipe and queues nothing", async () => {
    const recipe = await saved(member);
    const before = await buildCount();
    expect(await startBuild(outsider, { recipeId: recipe.recipeId })).toMatchObject({ ok: false, code: "not_found" });
    expect(await startBuild(reader, { recipeId: recipe.recipeId })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await buildCount()).toBe(before);
  });

  it("lets the requester cancel a queued build, but not someone else", async () => {
    const recipe = await saved(member);
    const started = await startBuild(member, { recipeId: recipe.recipeId });
    if (!started.ok || !started.data.queued) throw new Error("expected a queued build");
    createdBuilds.push(started.data.buildId);
    const byColleague = await cancelBuildAction(colleague, { buildId: started.data.buildId });
    expect(byColleague).toMatchObject({ ok: false, code: "forbidden" });
    const byOutsider = await cancelBuildAction(outsider, { buildId: started.data.buildId });
    expect(byOutsider).toMatchObject({ ok: false, code: "not_found" });
    expect(
      (await db().select({ status: builds.status }).from(builds).where(eq(builds.id, started.data.buildId)))[0]!.status,
    ).toBe("queued");
    expect(await cancelBuildAction(member, { buildId: started.data.buildId })).toMatchObject({
      ok: true,
      data: { status: "cancelled" },
    });
    expect(await cancelBuildAction(admin, { buildId: started.data.buildId })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    // Retry is a new build of the same revision.
    const retried = await retryBuildAction(member, { buildId: started.data.buildId });
    if (!retried.ok || !retried.data.queued) throw new Error("expected a retried build");
    createdBuilds.push(retried.data.buildId);
    const rows = await db()
      .select({ revisionId: builds.revisionId })
      .from(builds)
      .where(inArray(builds.id, [started.data.buildId, retried.data.buildId]));
    expect(new Set(rows.map((row) => row.revisionId)).size).toBe(1);
  });

  it("refuses a base that was revoked after the recipe was saved", async () => {
    const image = await createTestImage({ projectId, versions: [{ version: "2.0", releaseStatus: "approved" }] });
    const recipe = await saved(member, document({ base: { image: image.slug, version: "2.0" } }));
    await db().update(imageVersions).set({ releaseStatus: "revoked" }).where(eq(imageVersions.imageId, image.id));
    const before = await buildCount();
    const result = await startBuild(member, { recipeId: recipe.recipeId });
    expect(result).toMatchObject({ ok: false, code: "forbidden" });
    if (!result.ok) expect(result.message).toMatch(/revoked/);
    expect(await buildCount()).toBe(before);
  });
});

describe("fingerprints", () => {
  it("depend on the base bytes, the steps and the output, not on the recipe's name", () => {
    const doc = document();
    const fingerprint = buildFingerprint({ baseSha256: "a".repeat(64), document: doc, outputImageId: "out" });
    expect(
      buildFingerprint({
        baseSha256: "a".repeat(64),
        document: { ...doc, name: "renamed", description: "new words" },
        outputImageId: "out",
      }),
    ).toBe(fingerprint);
    expect(buildFingerprint({ baseSha256: "b".repeat(64), document: doc, outputImageId: "out" })).not.toBe(fingerprint);
    expect(
      buildFingerprint({
        baseSha256: "a".repeat(64),
        document: { ...doc, steps: [{ type: "mkdir", path: "/x" }] },
        outputImageId: "out",
      }),
    ).not.toBe(fingerprint);
    expect(
      buildFingerprint({
        baseSha256: "a".repeat(64),
        document: { ...doc, output: { ...doc.output, format: "raw" } },
        outputImageId: "out",
      }),
    ).not.toBe(fingerprint);
  });
});
