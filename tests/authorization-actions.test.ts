// Every server action × every kind of caller, on the real database: allowed calls change what they
// should; refused ones answer with the right code (unauthenticated, not_found for what the caller
// can't see, forbidden for what they see but may not do) and change no row and no audit event.
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { createBootTest } from "@/db/queries/boot-tests";
import { finishBuild, queueBuild } from "@/db/queries/builds";
import { saveRecipe } from "@/db/queries/recipes";
import { offerShare } from "@/db/queries/shares";
import type { Viewer } from "@/db/queries/users";
import {
  bootTests,
  builds,
  channelMoves,
  channels,
  clones,
  contentScans,
  conversions,
  imageShares,
  imageVersions,
  images,
  passwordLinks,
  projectMembers,
  projects,
  recipeRevisions,
  recipes,
  reviews,
  signInThrottles,
  users,
  versionDiffs,
  webhookDeliveries,
  webhooks,
} from "@/db/schema";
import {
  inviteUserAction,
  resetUserPasswordAction,
  setUserDisabledAction,
  setUserRoleAction,
} from "@/lib/actions/account-actions";
import {
  cancelBootTestAction as cancelBootTest,
  requestBootTestAction as requestBootTest,
  updateBootSettingsAction as updateBootSettings,
} from "@/lib/actions/boot-test-actions";
import { moveChannelAction } from "@/lib/actions/channel-actions";
import {
  createWebhookAction,
  deleteWebhookAction,
  redeliverWebhookAction,
  sendWebhookTestAction,
  updateWebhookAction,
} from "@/lib/actions/webhook-actions";
import { insertDeliveries, insertWebhook } from "@/db/queries/webhooks";
import {
  changeTagAction as changeTag,
  removePropertyAction as removeProperty,
  setPropertyAction as setProperty,
  setVisibilityAction as setVisibility,
  updateImageDetailsAction as updateImageDetails,
} from "@/lib/actions/image-actions";
import {
  createImageForImportAction as createImageForImport,
  requestConversionAction as requestVersionConversion,
  startUrlImportAction as startUrlImport,
} from "@/lib/actions/import-actions";
import {
  createProjectAction,
  removeMemberAction,
  setMemberAction,
  setQuotaAction,
} from "@/lib/actions/project-actions";
import {
  cancelBuildAction,
  rebuildAction,
  retryBuildAction,
  saveRecipeAction,
  startBuildAction as startBuild,
} from "@/lib/actions/recipe-actions";
import { changeReleaseAction as changeRelease, deleteVersionAction } from "@/lib/actions/release-actions";
import type { ActionResult } from "@/lib/actions/safe-action";
import { unlockSignInAction } from "@/lib/actions/sign-in-lock-actions";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import { cancelFileDiffAction, requestFileDiffAction } from "@/lib/actions/diff-actions";
import { rescanVersionAction } from "@/lib/actions/content-actions";
import { answerShareAction, offerShareAction, withdrawShareAction } from "@/lib/actions/share-actions";
import { accountRule, attemptPasswordSignIn } from "@/lib/auth/sign-in-guard";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { createTestBuildOutput, createTestImage, createTestUser, unique } from "./fixtures";
import {
  adminsOnly,
  anyoneSignedIn,
  auditCount,
  cellsOf,
  contributors,
  createWorld,
  expectOutcome,
  imageWith,
  managers,
  projectRoles,
  realVersion,
  type Expectation,
  type World,
} from "./authorization-world";

let world: World;
let baseSlug: string;
let outputSlug: string;
const member = () => world.callers.member!;

const recipeDocument = (overrides: Partial<RecipeDocument> = {}): RecipeDocument => ({
  name: unique("recipe"),
  description: "",
  base: { image: baseSlug, version: "1.1" },
  steps: [{ type: "write", path: "/etc/motd", content: "hello" }],
  output: { image: outputSlug, format: "qcow2" },
  ...overrides,
});

async function savedRecipe(document = recipeDocument()) {
  return saveRecipe({ viewer: member(), projectId: world.project.id, document });
}

async function queuedBuild() {
  const recipe = await savedRecipe();
  const queued = await queueBuild({ viewer: member(), recipeId: recipe.recipeId, send: async () => "not-sent" });
  if (!queued.queued) throw new Error("expected a queued build");
  return { recipeId: recipe.recipeId, buildId: queued.buildId };
}

const imageRow = async (id: string) => db().select().from(images).where(eq(images.id, id));
const versionRows = async (imageId: string) =>
  db().select().from(imageVersions).where(eq(imageVersions.imageId, imageId));
const bootTestRows = async (versionId: string) =>
  db().select().from(bootTests).where(eq(bootTests.versionId, versionId));
const buildRows = async (recipeId: string) => db().select().from(builds).where(eq(builds.recipeId, recipeId));

interface ActionCase {
  name: string;
  expected: Expectation;
  /** Makes a fresh target and returns the action's input. */
  prepare: () => Promise<Record<string, unknown>>;
  act: (viewer: Viewer | null, input: Record<string, unknown>) => Promise<ActionResult<unknown>>;
  /** The rows the action would change. */
  rows: (input: Record<string, unknown>) => Promise<unknown>;
  /** False for what is not a state change of an object (a cached conversion): no audit event. */
  audited?: false;
}

const id = (input: Record<string, unknown>, key: string) => String(input[key]);

// Webhooks made here point at a loopback address the operator allows (nothing listens there), so a
// delivery a later worker picks up never leaves the machine.
process.env.HANGAR_URL_IMPORT_ALLOW_ADDRESSES = "127.0.0.3";
process.env.HANGAR_URL_IMPORT_PORTS = "9";
const hookUrl = "http://127.0.0.3:9/hook";
async function webhookIn(projectId: string | null) {
  return insertWebhook({
    values: {
      projectId,
      url: hookUrl,
      secret: "authorization-test-secret",
      events: ["build.failed"],
      description: "",
      active: true,
      allowInternal: false,
      createdById: world.callers.admin!.id,
    },
  });
}
const webhookRows = async (webhookId: string) => db().select().from(webhooks).where(eq(webhooks.id, webhookId));
const deliveryRows = async (webhookId: string) =>
  db().select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, webhookId));

// Accounts belong to no project: everyone but an admin gets the same refusal.
const siteAdminsOnly: Expectation = { ...adminsOnly, "other member": "forbidden", "other owner": "forbidden" };
const userRow = async (userId: string) => db().select().from(users).where(eq(users.id, userId));

const cases: ActionCase[] = [
  // ── images ──
  {
    name: "changeTag",
    expected: contributors,
    prepare: async () => ({
      imageIds: [(await imageWith(world.project.id, ["approved"])).id],
      tag: "checked",
      op: "add",
    }),
    act: changeTag,
    rows: async (input) => imageRow((input.imageIds as string[])[0]!),
  },
  {
    name: "updateImageDetails",
    expected: contributors,
    prepare: async () => ({
      imageId: (await imageWith(world.project.id, ["approved"])).id,
      name: "Renamed",
      description: "new",
      os: "Debian",
      osVersion: "13",
      arch: "x86_64",
    }),
    act: updateImageDetails,
    rows: async (input) => imageRow(id(input, "imageId")),
  },
  {
    name: "setProperty",
    expected: contributors,
    prepare: async () => ({
      imageId: (await imageWith(world.project.id, ["approved"])).id,
      key: "hw_disk_bus",
      value: "virtio",
    }),
    act: setProperty,
    rows: async (input) => imageRow(id(input, "imageId")),
  },
  {
    name: "removeProperty",
    expected: contributors,
    prepare: async () => {
      const image = await imageWith(world.project.id, ["approved"]);
      await db()
        .update(images)
        .set({ properties: { hw_disk_bus: "virtio" } })
        .where(eq(images.id, image.id));
      return { imageId: image.id, key: "hw_disk_bus" };
    },
    act: removeProperty,
    rows: async (input) => imageRow(id(input, "imageId")),
  },
  {
    name: "setVisibility",
    expected: managers,
    prepare: async () => ({ imageId: (await imageWith(world.project.id, ["approved"])).id, visibility: "public" }),
    act: setVisibility,
    rows: async (input) => imageRow(id(input, "imageId")),
  },
  // ── boot tests ──
  {
    name: "requestBootTest",
    expected: contributors,
    prepare: async () => ({ versionId: (await imageWith(world.project.id, ["pending_review"])).versions[0]! }),
    act: requestBootTest,
    rows: async (input) => bootTestRows(id(input, "versionId")),
  },
  {
    name: "cancelBootTest",
    expected: contributors,
    prepare: async () => {
      const versionId = (await imageWith(world.project.id, ["pending_review"])).versions[0]!;
      const queued = await createBootTest({ versionId, trigger: "manual", requestedById: null, timeoutSeconds: 60 });
      return { bootTestId: queued.bootTestId };
    },
    act: cancelBootTest,
    rows: async (input) =>
      db()
        .select()
        .from(bootTests)
        .where(eq(bootTests.id, id(input, "bootTestId"))),
  },
  {
    name: "updateBootSettings",
    expected: managers,
    prepare: async () => ({
      imageId: (await imageWith(world.project.id, ["approved"])).id,
      required: true,
      marker: "READY",
    }),
    act: updateBootSettings,
    rows: async (input) => imageRow(id(input, "imageId")),
  },
  // ── imports ──
  {
    name: "createImageForImport",
    expected: contributors,
    prepare: async () => ({ projectId: world.project.id, slug: unique("new-image"), name: "New image", os: "Debian" }),
    act: createImageForImport,
    rows: async (input) =>
      db()
        .select()
        .from(images)
        .where(eq(images.slug, id(input, "slug"))),
  },
  {
    name: "startUrlImport",
    expected: contributors,
    // An IP literal: the URL check needs no DNS; no worker runs in this file to fetch it.
    prepare: async () => ({
      imageId: (await imageWith(world.project.id, [])).id,
      version: "2.0",
      url: "http://93.184.215.14/disk.qcow2",
    }),
    act: startUrlImport,
    rows: async (input) => versionRows(id(input, "imageId")),
  },
  {
    name: "requestVersionConversion",
    expected: projectRoles,
    prepare: async () => ({ versionId: (await imageWith(world.project.id, ["approved"])).versions[0], format: "raw" }),
    act: requestVersionConversion,
    rows: async (input) =>
      db()
        .select()
        .from(conversions)
        .where(eq(conversions.versionId, id(input, "versionId"))),
  },
  // ── releases and channels ──
  {
    name: "changeRelease submit",
    expected: contributors,
    prepare: async () => ({ versionId: (await imageWith(world.project.id, ["draft"])).versions[0], action: "submit" }),
    act: changeRelease,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "changeRelease approve",
    expected: adminsOnly,
    prepare: async () => ({
      versionId: (await imageWith(world.project.id, ["pending_review"])).versions[0],
      action: "approve",
    }),
    act: changeRelease,
    rows: async (input) => [
      await db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
      await db()
        .select()
        .from(reviews)
        .where(eq(reviews.versionId, id(input, "versionId"))),
    ],
  },
  // Four-eyes: whoever wrote any part of the built recipe or started the build produced the
  // output, so the only admin here may approve neither (another admin can: releases.test.ts).
  {
    name: "changeRelease approve (a build's output: the admin wrote the recipe, the member started the build)",
    expected: { ...adminsOnly, admin: "forbidden" },
    prepare: async () => ({
      versionId: (
        await createTestBuildOutput({ projectId: world.project.id, authors: [world.callers.admin!], starter: member() })
      ).versionId,
      action: "approve",
    }),
    act: changeRelease,
    rows: async (input) => [
      await db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
      await db()
        .select()
        .from(reviews)
        .where(eq(reviews.versionId, id(input, "versionId"))),
    ],
  },
  {
    name: "changeRelease approve (a build's output: the member wrote the recipe, the admin started the build)",
    expected: { ...adminsOnly, admin: "forbidden" },
    prepare: async () => ({
      versionId: (
        await createTestBuildOutput({ projectId: world.project.id, authors: [member()], starter: world.callers.admin! })
      ).versionId,
      action: "approve",
    }),
    act: changeRelease,
    rows: async (input) => [
      await db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
      await db()
        .select()
        .from(reviews)
        .where(eq(reviews.versionId, id(input, "versionId"))),
    ],
  },
  {
    name: "changeRelease deprecate",
    expected: managers,
    prepare: async () => ({
      versionId: (await imageWith(world.project.id, ["approved"])).versions[0],
      action: "deprecate",
      reason: "old",
    }),
    act: changeRelease,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "changeRelease revoke",
    expected: adminsOnly,
    prepare: async () => ({
      versionId: (await imageWith(world.project.id, ["approved"])).versions[0],
      action: "revoke",
      reason: "leaked key",
    }),
    act: changeRelease,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "changeRelease reject",
    expected: adminsOnly,
    prepare: async () => ({
      versionId: (await imageWith(world.project.id, ["pending_review"])).versions[0],
      action: "reject",
      reason: "no changelog",
    }),
    act: changeRelease,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "changeRelease disable",
    expected: adminsOnly,
    prepare: async () => ({
      versionId: (await imageWith(world.project.id, ["approved"])).versions[0],
      action: "disable",
      reason: "end of life",
    }),
    act: changeRelease,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "changeRelease reinstate",
    expected: adminsOnly,
    prepare: async () => ({
      versionId: (await imageWith(world.project.id, ["deprecated"])).versions[0],
      action: "reinstate",
    }),
    act: changeRelease,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "deleteVersionAction",
    expected: managers,
    prepare: async () => ({ versionId: (await imageWith(world.project.id, ["draft"])).versions[0] }),
    act: deleteVersionAction,
    rows: async (input) =>
      db()
        .select()
        .from(imageVersions)
        .where(eq(imageVersions.id, id(input, "versionId"))),
  },
  {
    name: "moveChannelAction",
    expected: managers,
    prepare: async () => {
      const image = await imageWith(world.project.id, ["approved"]);
      return { imageId: image.id, name: "stable", versionId: image.versions[0] };
    },
    act: moveChannelAction,
    rows: async (input) => {
      const rows = await db()
        .select()
        .from(channels)
        .where(eq(channels.imageId, id(input, "imageId")));
      const moves = rows.length
        ? await db()
            .select()
            .from(channelMoves)
            .where(
              inArray(
                channelMoves.channelId,
                rows.map((row) => row.id),
              ),
            )
        : [];
      return [rows, moves];
    },
  },
  // ── webhooks ──
  {
    name: "createWebhookAction (project)",
    expected: managers,
    prepare: async () => ({
      projectId: world.project.id,
      url: hookUrl,
      events: ["build.failed"],
      description: unique("hook"),
    }),
    act: createWebhookAction,
    rows: async (input) =>
      db()
        .select()
        .from(webhooks)
        .where(eq(webhooks.description, id(input, "description"))),
  },
  {
    name: "createWebhookAction (global)",
    expected: siteAdminsOnly,
    prepare: async () => ({ projectId: null, url: hookUrl, events: ["build.failed"], description: unique("hook") }),
    act: createWebhookAction,
    rows: async (input) =>
      db()
        .select()
        .from(webhooks)
        .where(eq(webhooks.description, id(input, "description"))),
  },
  {
    name: "updateWebhookAction",
    expected: managers,
    prepare: async () => ({ id: (await webhookIn(world.project.id)).id, active: false }),
    act: updateWebhookAction,
    rows: async (input) => webhookRows(id(input, "id")),
  },
  {
    name: "updateWebhookAction (global)",
    expected: siteAdminsOnly,
    prepare: async () => ({ id: (await webhookIn(null)).id, active: false }),
    act: updateWebhookAction,
    rows: async (input) => webhookRows(id(input, "id")),
  },
  {
    name: "deleteWebhookAction",
    expected: managers,
    prepare: async () => ({ id: (await webhookIn(world.project.id)).id }),
    act: deleteWebhookAction,
    rows: async (input) => webhookRows(id(input, "id")),
  },
  {
    name: "sendWebhookTestAction",
    expected: managers,
    prepare: async () => ({ id: (await webhookIn(world.project.id)).id }),
    act: sendWebhookTestAction,
    rows: async (input) => deliveryRows(id(input, "id")),
    audited: false,
  },
  {
    name: "redeliverWebhookAction",
    expected: managers,
    prepare: async () => {
      const webhook = await webhookIn(world.project.id);
      const [delivery] = await insertDeliveries({
        rows: [{ webhookId: webhook.id, eventId: crypto.randomUUID(), eventType: "build.failed", payload: {} }],
      });
      return { deliveryId: delivery!.id, webhookId: webhook.id };
    },
    act: (viewer, input) => redeliverWebhookAction(viewer, { deliveryId: input.deliveryId }),
    rows: async (input) => deliveryRows(id(input, "webhookId")),
    audited: false,
  },
  // ── recipes and builds ──
  {
    name: "saveRecipeAction (new recipe)",
    expected: contributors,
    prepare: async () => ({ projectId: world.project.id, document: recipeDocument() }),
    act: saveRecipeAction,
    rows: async (input) =>
      db()
        .select()
        .from(recipes)
        .where(eq(recipes.name, (input.document as RecipeDocument).name)),
  },
  {
    name: "saveRecipeAction (new revision)",
    expected: contributors,
    prepare: async () => ({
      recipeId: (await savedRecipe()).recipeId,
      document: recipeDocument({ steps: [{ type: "write", path: "/etc/motd", content: "changed" }] }),
    }),
    act: saveRecipeAction,
    rows: async (input) =>
      db()
        .select()
        .from(recipeRevisions)
        .where(eq(recipeRevisions.recipeId, id(input, "recipeId"))),
  },
  {
    name: "startBuild",
    expected: contributors,
    prepare: async () => ({ recipeId: (await savedRecipe()).recipeId }),
    act: startBuild,
    rows: async (input) => buildRows(id(input, "recipeId")),
  },
  {
    name: "cancelBuildAction (a member's queued build)",
    // The one who asked for it, the project's owners and admins.
    expected: { ...managers, member: "ok" },
    prepare: async () => ({ buildId: (await queuedBuild()).buildId }),
    act: cancelBuildAction,
    rows: async (input) =>
      db()
        .select()
        .from(builds)
        .where(eq(builds.id, id(input, "buildId"))),
  },
  {
    name: "retryBuildAction",
    expected: contributors,
    prepare: async () => {
      const { recipeId, buildId } = await queuedBuild();
      await finishBuild(buildId, { status: "failed", failureReason: "test" });
      return { buildId, recipeId };
    },
    act: (viewer, input) => retryBuildAction(viewer, { buildId: input.buildId }),
    rows: async (input) => buildRows(id(input, "recipeId")),
  },
  {
    name: "rebuildAction",
    expected: contributors,
    prepare: async () => {
      const recipe = await savedRecipe(recipeDocument({ base: { image: baseSlug, channel: "latest" } }));
      const output = await imageWith(world.project.id, ["approved"]);
      await db()
        .update(imageVersions)
        .set({ recipeRevisionId: recipe.revisionId, source: "build" })
        .where(eq(imageVersions.id, output.versions[0]!));
      return { versionId: output.versions[0], recipeId: recipe.recipeId };
    },
    act: (viewer, input) => rebuildAction(viewer, { versionId: input.versionId }),
    rows: async (input) => [
      await buildRows(id(input, "recipeId")),
      await db()
        .select()
        .from(recipeRevisions)
        .where(eq(recipeRevisions.recipeId, id(input, "recipeId"))),
    ],
  },
  // ── projects ──
  {
    name: "createProjectAction",
    expected: anyoneSignedIn,
    prepare: async () => ({ slug: unique("team"), name: "A team" }),
    act: createProjectAction,
    rows: async (input) =>
      db()
        .select()
        .from(projects)
        .where(eq(projects.slug, id(input, "slug"))),
  },
  {
    name: "setMemberAction",
    expected: managers,
    prepare: async () => {
      const newcomer = await createTestUser();
      return { projectId: world.project.id, email: newcomer.email, role: "member", userId: newcomer.id };
    },
    act: (viewer, { userId: _userId, ...input }) => setMemberAction(viewer, input),
    rows: async (input) =>
      db()
        .select()
        .from(projectMembers)
        .where(and(eq(projectMembers.projectId, world.project.id), eq(projectMembers.userId, id(input, "userId")))),
  },
  {
    name: "removeMemberAction",
    expected: managers,
    prepare: async () => {
      const leaving = await createTestUser();
      await db().insert(projectMembers).values({ projectId: world.project.id, userId: leaving.id, role: "member" });
      return { projectId: world.project.id, userId: leaving.id };
    },
    act: removeMemberAction,
    rows: async (input) =>
      db()
        .select()
        .from(projectMembers)
        .where(and(eq(projectMembers.projectId, world.project.id), eq(projectMembers.userId, id(input, "userId")))),
  },
  {
    name: "setQuotaAction",
    // Admins only; everyone else gets the same answer whether or not the project exists.
    expected: { ...adminsOnly, "other member": "forbidden", "other owner": "forbidden" },
    prepare: async () => ({ projectId: world.project.id, quotaGiB: 100 + Math.floor(Math.random() * 1000) }),
    act: setQuotaAction,
    rows: async () => db().select().from(projects).where(eq(projects.id, world.project.id)),
  },
  // ── sign-in ──
  {
    name: "unlockSignInAction",
    // Admins only, whatever the account: no project is involved.
    expected: {
      ...adminsOnly,
      viewer: "forbidden",
      member: "forbidden",
      "other member": "forbidden",
      "other owner": "forbidden",
    },
    prepare: async () => {
      const email = `${unique("locked")}@test.local`;
      for (let failure = 0; failure < accountRule.lockAtFailure; failure += 1) {
        await attemptPasswordSignIn({
          email,
          password: "wrong",
          address: `192.0.2.${Math.floor(Math.random() * 250)}`,
        });
      }
      return { email };
    },
    act: unlockSignInAction,
    rows: async (input) =>
      db()
        .select()
        .from(signInThrottles)
        .where(and(eq(signInThrottles.scope, "account"), eq(signInThrottles.key, id(input, "email")))),
  },
  // ── clones and shares ──
  {
    name: "cloneVersionAction (linked, into P)",
    expected: contributors,
    prepare: async () => {
      const source = await realVersion(world, { projectId: world.project.id });
      return {
        versionId: source.versionId,
        projectId: world.project.id,
        newImageSlug: unique("clone"),
        version: "1.0",
        mode: "linked",
      };
    },
    act: cloneVersionAction,
    rows: async (input) => [
      await db()
        .select()
        .from(clones)
        .where(eq(clones.sourceVersionId, id(input, "versionId"))),
      await db()
        .select()
        .from(images)
        .where(eq(images.slug, id(input, "newImageSlug"))),
    ],
  },
  // ── version diffs ── (two versions with the same bytes: answered at once, no job queued)
  {
    name: "requestFileDiffAction (two versions of P)",
    expected: projectRoles,
    prepare: async () => ({
      fromVersionId: (await realVersion(world, { projectId: world.project.id })).versionId,
      toVersionId: (await realVersion(world, { projectId: world.project.id })).versionId,
    }),
    act: requestFileDiffAction,
    audited: false,
    rows: async (input) =>
      db()
        .select()
        .from(versionDiffs)
        .where(eq(versionDiffs.fromVersionId, id(input, "fromVersionId"))),
  },
  {
    name: "cancelFileDiffAction (queued, asked for by the member)",
    expected: { ...projectRoles, viewer: "forbidden", owner: "forbidden" },
    prepare: async () => {
      const [diff] = await db()
        .insert(versionDiffs)
        .values({
          fromVersionId: (await realVersion(world, { projectId: world.project.id })).versionId,
          toVersionId: (await realVersion(world, { projectId: world.project.id })).versionId,
          requestedById: member().id,
        })
        .returning({ id: versionDiffs.id });
      return { diffId: diff!.id };
    },
    act: cancelFileDiffAction,
    audited: false,
    rows: async (input) =>
      db()
        .select()
        .from(versionDiffs)
        .where(eq(versionDiffs.id, id(input, "diffId"))),
  },
  // ── content ──
  {
    name: "rescanVersionAction (a failed scan, Inspect again)",
    expected: contributors,
    prepare: async () => {
      const version = await realVersion(world, { projectId: world.project.id });
      await db()
        .update(contentScans)
        .set({ status: "failed", failureReason: "authorization test" })
        .where(eq(contentScans.sha256, world.blob.sha256));
      return { versionId: version.versionId };
    },
    act: rescanVersionAction,
    rows: async () => db().select().from(contentScans).where(eq(contentScans.sha256, world.blob.sha256)),
    // Asking for a job is not a change to an object people own: no audit event.
    audited: false,
  },
  {
    name: "offerShareAction",
    expected: managers,
    prepare: async () => ({
      imageId: (await imageWith(world.project.id, ["approved"])).id,
      projectSlug: world.thirdProject.slug,
    }),
    act: offerShareAction,
    rows: async (input) => [
      await imageRow(id(input, "imageId")),
      await db()
        .select()
        .from(imageShares)
        .where(eq(imageShares.imageId, id(input, "imageId"))),
    ],
  },
  {
    name: "answerShareAction (a share offered to P)",
    expected: managers,
    prepare: async () => {
      const image = await imageWith(world.thirdProject.id, ["approved"]);
      await offerShare({ viewer: world.thirdOwner, imageId: image.id, projectSlug: world.project.slug });
      return { imageId: image.id, projectId: world.project.id, accept: true };
    },
    act: answerShareAction,
    rows: async (input) =>
      db()
        .select()
        .from(imageShares)
        .where(eq(imageShares.imageId, id(input, "imageId"))),
  },
  {
    name: "withdrawShareAction (P's image shared with R)",
    expected: managers,
    prepare: async () => {
      const image = await imageWith(world.project.id, ["approved"]);
      await offerShare({ viewer: world.callers.owner!, imageId: image.id, projectSlug: world.thirdProject.slug });
      return { imageId: image.id, projectId: world.thirdProject.id };
    },
    act: withdrawShareAction,
    rows: async (input) =>
      db()
        .select()
        .from(imageShares)
        .where(eq(imageShares.imageId, id(input, "imageId"))),
  },
  // ── accounts ──
  {
    name: "inviteUserAction",
    expected: siteAdminsOnly,
    prepare: async () => ({ email: `${unique("invitee")}@test.local`, name: "New person", role: "member" }),
    act: inviteUserAction,
    rows: async (input) =>
      db()
        .select()
        .from(users)
        .where(eq(users.email, id(input, "email"))),
  },
  {
    name: "setUserRoleAction (make admin)",
    expected: siteAdminsOnly,
    prepare: async () => ({ userId: (await createTestUser()).id, role: "admin" }),
    act: setUserRoleAction,
    rows: async (input) => userRow(id(input, "userId")),
  },
  {
    name: "setUserDisabledAction (disable)",
    expected: siteAdminsOnly,
    prepare: async () => ({ userId: (await createTestUser()).id, disabled: true }),
    act: setUserDisabledAction,
    rows: async (input) => userRow(id(input, "userId")),
  },
  {
    name: "resetUserPasswordAction",
    expected: siteAdminsOnly,
    prepare: async () => ({ userId: (await createTestUser()).id }),
    act: resetUserPasswordAction,
    rows: async (input) =>
      db()
        .select()
        .from(passwordLinks)
        .where(eq(passwordLinks.userId, id(input, "userId"))),
  },
];

beforeAll(async () => {
  world = await createWorld();
  baseSlug = (
    await createTestImage({ projectId: world.project.id, versions: [{ version: "1.1", releaseStatus: "approved" }] })
  ).slug;
  outputSlug = (await createTestImage({ projectId: world.project.id, versions: [] })).slug;
});

afterAll(async () => {
  // Nothing queued here may reach a worker of a later test file: a delivery whose webhook is gone
  // (its rows go with it) is dropped by the job.
  await db().delete(webhooks).where(eq(webhooks.url, hookUrl));
  const ourRecipes = db().select({ id: recipes.id }).from(recipes).where(eq(recipes.projectId, world.project.id));
  await db()
    .update(builds)
    .set({ status: "cancelled" })
    .where(and(inArray(builds.recipeId, ourRecipes), eq(builds.status, "queued")));
  const ours = db()
    .select({ id: imageVersions.id })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(eq(images.projectId, world.project.id));
  await db()
    .update(imageVersions)
    .set({ dataStatus: "failed", failureReason: "authorization test" })
    .where(and(inArray(imageVersions.id, ours), eq(imageVersions.dataStatus, "queued")));
  await db().delete(conversions).where(inArray(conversions.versionId, ours));
  await db()
    .update(versionDiffs)
    .set({ status: "cancelled" })
    .where(and(inArray(versionDiffs.fromVersionId, ours), eq(versionDiffs.status, "queued")));
});

describe("every action × every caller", () => {
  it.each(cellsOf(cases))("%s by %s: %s", async (_name, callerName, outcome, entry) => {
    const input = await entry.prepare();
    const before = { rows: await entry.rows(input), audit: await auditCount() };
    const result = await entry.act(world.callers[callerName], input);
    expectOutcome(result, outcome);
    const after = { rows: await entry.rows(input), audit: await auditCount() };
    if (outcome === "ok") {
      expect(after.rows).not.toEqual(before.rows);
      if (entry.audited !== false) expect(after.audit).toBeGreaterThan(before.audit);
    } else {
      expect(after).toEqual(before);
    }
  });
});
