// Recipes and their immutable revisions. Who may do what is decided here, in the data layer:
// viewing a recipe needs any role in its project, saving and building need member or owner
// (admins may do everything). A base must be a version the caller may use right now.
import { createHash } from "node:crypto";
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { env } from "@/lib/env";
import { isBuildable, unbuildableStatuses } from "@/lib/governance/release";
import { growToBytes } from "@/lib/recipes/steps";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { db, type Database } from "../client";
import {
  blobs,
  channels,
  imageVersions,
  images,
  projects,
  recipeFiles,
  recipeRevisions,
  recipes,
  users,
  type DiskFormat,
  type ReleaseStatus,
} from "../schema";
import { recordAudit } from "./audit";
import { channelVersion } from "./channels";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";
import {
  canInProject,
  imageInProjectCondition,
  projectCapabilities,
  projectScopedCondition,
  usableVersionCondition,
  visibleImagesCondition,
  visibleVersionCondition,
  type ProjectCapabilities,
} from "./access";
import { approvedVersionsSql, releaseStatusIn } from "./release-sql";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/**
 * Versions the viewer may build on: ready, not rejected/disabled/revoked, and either released
 * (approved or deprecated) in an image they can see, or any state inside their own project.
 */
export function buildableVersionCondition(viewer: Viewer): SQL {
  return sql`${imageVersions.dataStatus} = 'ready' and not ${releaseStatusIn(imageVersions.releaseStatus, unbuildableStatuses)} and ${usableVersionCondition(viewer)}`;
}

export interface ResolvedBase {
  imageId: string;
  imageSlug: string;
  versionId: string;
  version: string;
  format: DiskFormat;
  sha256: string;
  virtualSize: number;
  releaseStatus: ReleaseStatus;
}

/** The base image, if the viewer may see it: anyone else learns nothing about the name. */
async function findBaseImage(viewer: Viewer, slug: string) {
  const [image] = await db()
    .select({ id: images.id, slug: images.slug, projectId: images.projectId })
    .from(images)
    .where(and(eq(images.slug, slug), visibleImagesCondition(viewer, "images")));
  return image ?? null;
}

/** The version a recipe's base names now: a pinned version, or the newest usable one for `latest`. */
export async function resolveBase({
  viewer,
  image,
  version,
  channel,
}: {
  viewer: Viewer;
  image: string;
  version?: string | null;
  channel?: string | null;
}): Promise<ResolvedBase> {
  const found = await findBaseImage(viewer, image);
  const noSuchImage = new HangarError(
    "not_found",
    `There is no base image “${image}” you can use. Check the short name, or ask for access to its project.`,
    { "base.image": ["No such image."] },
  );
  if (!found) throw noSuchImage;
  // latest is the newest approved version; any other channel is the version it points at now.
  let channelTarget: string | null = null;
  if (channel && channel !== "latest") {
    channelTarget = await channelVersion({ imageId: found.id, name: channel });
    if (!channelTarget)
      throw new HangarError(
        "invalid",
        `The image “${image}” has no channel “${channel}”. Follow latest, or pin a version.`,
        { "base.channel": ["Unknown channel."] },
      );
  }
  const rows = await db()
    .select({
      imageId: images.id,
      imageSlug: images.slug,
      versionId: imageVersions.id,
      version: imageVersions.version,
      format: imageVersions.format,
      sha256: imageVersions.sha256,
      virtualSize: imageVersions.virtualSize,
      releaseStatus: imageVersions.releaseStatus,
      usable: sql<boolean>`${buildableVersionCondition(viewer)}`,
      visible: sql<boolean>`${visibleVersionCondition(viewer)}`,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(
      and(
        eq(images.id, found.id),
        version
          ? eq(imageVersions.version, version)
          : channelTarget
            ? eq(imageVersions.id, channelTarget)
            : sql`${imageVersions.id} = (select id from (${approvedVersionsSql(found.id)}) latest)`,
      ),
    )
    .orderBy(desc(imageVersions.createdAt), desc(imageVersions.id))
    .limit(1);
  // A version the viewer can't see (a draft of a public image) is, to them, no version at all.
  const row = rows[0]?.visible ? rows[0] : undefined;
  if (!row) {
    if (version)
      throw new HangarError("not_found", `The image “${image}” has no version “${version}”.`, {
        "base.version": ["No such version."],
      });
    throw new HangarError("not_found", `The image “${image}” has no approved version you can build on yet.`, {
      "base.channel": ["Nothing usable yet."],
    });
  }
  if (!row.usable) {
    const why = !isBuildable(row.releaseStatus)
      ? `it is ${row.releaseStatus}; nobody may build on it. Pick another version.`
      : "it is not ready or not released to you yet.";
    throw new HangarError("forbidden", `You can't build on ${image} ${row.version}: ${why}`, {
      "base.version": ["Not usable."],
    });
  }
  return { ...row, format: row.format!, sha256: row.sha256!, virtualSize: row.virtualSize ?? 0 };
}

export interface ResolvedDocument {
  base: ResolvedBase;
  outputImageId: string;
  outputProjectId: string;
}

/** Checks every reference in a recipe document against what the viewer may use and write. */
export async function resolveDocument({
  viewer,
  document,
  projectId,
}: {
  viewer: Viewer;
  document: RecipeDocument;
  projectId: string;
}): Promise<ResolvedDocument> {
  const attached = document.steps.flatMap((step) => (step.type === "upload" ? [step.blobSha256] : []));
  if (attached.length) {
    const found = await db()
      .select({ sha256: recipeFiles.sha256 })
      .from(recipeFiles)
      .where(
        and(
          eq(recipeFiles.projectId, projectId),
          sql`${recipeFiles.sha256} in (${sql.join(
            attached.map((sha) => sql`${sha}`),
            sql`, `,
          )})`,
        ),
      );
    const known = new Set(found.map((row) => row.sha256));
    const index = document.steps.findIndex((step) => step.type === "upload" && !known.has(step.blobSha256));
    if (index >= 0) {
      throw new HangarError(
        "invalid",
        `Step ${index + 1} uploads a file that is not attached to this recipe's project; attach the file again.`,
        {
          [`document.steps.${index}.blobSha256`]: ["Attach the file again."],
        },
      );
    }
  }
  const base = await resolveBase({
    viewer,
    image: document.base.image,
    version: document.base.version,
    channel: document.base.channel,
  });
  const [output] = await db()
    .select({
      id: images.id,
      projectId: images.projectId,
      canEdit: sql<boolean>`${imageInProjectCondition(viewer, "contribute")}`,
    })
    .from(images)
    .where(eq(images.slug, document.output.image));
  if (!output || !output.canEdit) {
    throw new HangarError(
      "forbidden",
      `You can't add versions to “${document.output.image}”: it doesn't exist, or you are not a member of its project. Pick an image you may write to, or create one.`,
      { "output.image": ["Not an image you may write to."] },
    );
  }
  return { base, outputImageId: output.id, outputProjectId: output.projectId };
}

/** Key order and defaults fixed, so the same recipe always serialises (and fingerprints) the same. */
export function normaliseDocument(document: RecipeDocument): RecipeDocument {
  return {
    name: document.name,
    description: document.description ?? "",
    base: document.base.version
      ? { image: document.base.image, version: document.base.version }
      : { image: document.base.image, channel: document.base.channel! },
    steps: document.steps,
    output: {
      image: document.output.image,
      format: document.output.format,
      ...(document.output.growTo ? { growTo: document.output.growTo } : {}),
    },
  };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256(base version sha256 + normalised revision). Only what decides the output's bytes and
 * where it lands counts: renaming a recipe or re-describing it does not change the fingerprint.
 */
export function buildFingerprint({
  baseSha256,
  document,
  outputImageId,
}: {
  baseSha256: string;
  document: RecipeDocument;
  outputImageId: string;
}): string {
  const normalised = normaliseDocument(document);
  return createHash("sha256")
    .update(baseSha256)
    .update("\n")
    .update(canonicalJson({ steps: normalised.steps, output: { ...normalised.output, image: outputImageId } }))
    .digest("hex");
}

export interface RecipeListRow {
  id: string;
  name: string;
  projectName: string;
  latestRevision: number;
  baseImage: string;
  baseRef: string;
  outputImage: string;
  stepCount: number;
  updatedAt: Date;
  canEdit: boolean;
}

function recipeVisibleCondition(viewer: Viewer): SQL {
  return projectScopedCondition(viewer, recipes.projectId);
}

export async function listRecipes({ viewer }: { viewer: Viewer }): Promise<RecipeListRow[]> {
  const rows = await db()
    .select({
      id: recipes.id,
      name: recipes.name,
      projectId: recipes.projectId,
      projectName: projects.name,
      latestRevision: recipes.latestRevision,
      document: recipeRevisions.document,
      updatedAt: recipes.updatedAt,
    })
    .from(recipes)
    .innerJoin(projects, eq(projects.id, recipes.projectId))
    .innerJoin(
      recipeRevisions,
      and(eq(recipeRevisions.recipeId, recipes.id), eq(recipeRevisions.revision, recipes.latestRevision)),
    )
    .where(recipeVisibleCondition(viewer))
    .orderBy(desc(recipes.updatedAt))
    .limit(500);
  return rows.map((row) => {
    const document = row.document;
    return {
      id: row.id,
      name: row.name,
      projectName: row.projectName,
      latestRevision: row.latestRevision,
      baseImage: document.base.image,
      baseRef: document.base.version ?? `channel ${document.base.channel}`,
      outputImage: document.output.image,
      stepCount: document.steps.length,
      updatedAt: row.updatedAt,
      canEdit: canInProject(viewer, row.projectId, "contribute"),
    };
  });
}

export interface RecipeDetail {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  latestRevision: number;
  /** What the viewer may do in its project (access.ts): contribute saves revisions and builds. */
  can: ProjectCapabilities;
  revisions: {
    id: string;
    revision: number;
    createdAt: Date;
    createdByEmail: string | null;
    document: RecipeDocument;
  }[];
}

export async function getRecipe({ viewer, id }: { viewer: Viewer; id: string }): Promise<RecipeDetail | null> {
  if (!isUuid(id)) return null;
  const [recipe] = await db()
    .select({
      id: recipes.id,
      name: recipes.name,
      projectId: recipes.projectId,
      projectName: projects.name,
      latestRevision: recipes.latestRevision,
    })
    .from(recipes)
    .innerJoin(projects, eq(projects.id, recipes.projectId))
    .where(and(eq(recipes.id, id), recipeVisibleCondition(viewer)));
  if (!recipe) return null;
  const revisions = await db()
    .select({
      id: recipeRevisions.id,
      revision: recipeRevisions.revision,
      createdAt: recipeRevisions.createdAt,
      createdByEmail: users.email,
      document: recipeRevisions.document,
    })
    .from(recipeRevisions)
    .leftJoin(users, eq(users.id, recipeRevisions.createdById))
    .where(eq(recipeRevisions.recipeId, id))
    .orderBy(desc(recipeRevisions.revision));
  return {
    ...recipe,
    can: projectCapabilities(viewer, recipe.projectId),
    revisions: revisions.map((revision) => ({ ...revision, document: revision.document })),
  };
}

/**
 * Saves a recipe: a new recipe with revision 1, or the next revision of an existing one. Saving
 * the same document again makes no new revision. The audit event is in the same transaction.
 */
export async function saveRecipe({
  viewer,
  recipeId,
  projectId,
  document,
}: {
  viewer: Viewer;
  recipeId?: string;
  projectId?: string;
  document: RecipeDocument;
}): Promise<{ recipeId: string; revision: number; revisionId: string; created: boolean }> {
  const normalised = normaliseDocument(document);
  // Who may touch the recipe is answered once, before anything about its contents.
  let recipeProject: string;
  if (recipeId) {
    const [recipe] = await db().select({ projectId: recipes.projectId }).from(recipes).where(eq(recipes.id, recipeId));
    if (!recipe || !canInProject(viewer, recipe.projectId, "view"))
      throw new HangarError("not_found", "That recipe doesn't exist or is in a project you are not a member of.");
    if (!canInProject(viewer, recipe.projectId, "contribute"))
      throw new HangarError(
        "forbidden",
        "Only members and owners of the recipe's project can change it; you can view it.",
      );
    recipeProject = recipe.projectId;
  } else if (projectId && canInProject(viewer, projectId, "contribute")) {
    recipeProject = projectId;
  } else if (projectId && canInProject(viewer, projectId, "view")) {
    throw new HangarError(
      "forbidden",
      "Only members and owners of a project can add recipes to it; you can view it. Choose a project you are a member of.",
      { projectId: ["Not a project you may write to."] },
    );
  } else {
    throw new HangarError("not_found", "Choose a project you are a member of for this recipe.", {
      projectId: ["No such project among yours."],
    });
  }
  const resolved = await resolveDocument({ viewer, document: normalised, projectId: recipeProject });
  return db().transaction(async (tx: Tx) => {
    let id = recipeId;
    let previous: { revision: number; document: unknown; id: string } | undefined;
    if (id) {
      // The row lock orders concurrent saves, so each gets its own revision number.
      const [recipe] = await tx
        .select({ latestRevision: recipes.latestRevision })
        .from(recipes)
        .where(eq(recipes.id, id))
        .for("update");
      if (!recipe) throw new HangarError("not_found", "That recipe doesn't exist any more.");
      [previous] = await tx
        .select({ revision: recipeRevisions.revision, document: recipeRevisions.document, id: recipeRevisions.id })
        .from(recipeRevisions)
        .where(and(eq(recipeRevisions.recipeId, id), eq(recipeRevisions.revision, recipe.latestRevision)));
      if (previous && canonicalJson(previous.document) === canonicalJson(normalised)) {
        return { recipeId: id, revision: previous.revision, revisionId: previous.id, created: false };
      }
    } else {
      const [recipe] = await tx
        .insert(recipes)
        .values({ projectId: recipeProject, name: normalised.name, createdById: viewer.id })
        .returning({ id: recipes.id });
      id = recipe!.id;
    }
    const revision = (previous?.revision ?? 0) + 1;
    const [row] = await tx
      .insert(recipeRevisions)
      .values({
        recipeId: id,
        revision,
        document: normalised,
        baseImageId: resolved.base.imageId,
        baseVersionId: normalised.base.version ? resolved.base.versionId : null,
        baseChannel: normalised.base.channel ?? null,
        outputImageId: resolved.outputImageId,
        outputFormat: normalised.output.format,
        growToBytes: growToBytes(normalised.output.growTo),
        createdById: viewer.id,
      })
      .returning({ id: recipeRevisions.id });
    await tx
      .update(recipes)
      .set({ name: normalised.name, latestRevision: revision, updatedAt: sql`now()` })
      .where(eq(recipes.id, id));
    await recordAudit(
      {
        actorId: viewer.id,
        action: revision === 1 ? "recipe.create" : "recipe.revise",
        objectType: "recipe",
        objectId: id,
        before: previous?.document ?? null,
        after: normalised,
      },
      tx,
    );
    return { recipeId: id, revision, revisionId: row!.id, created: true };
  });
}

/** Base versions and output images the editor offers the viewer. */
export async function listRecipeChoices({ viewer }: { viewer: Viewer }) {
  const bases = await db()
    .select({
      image: images.slug,
      imageName: images.name,
      version: imageVersions.version,
      releaseStatus: imageVersions.releaseStatus,
      format: imageVersions.format,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(buildableVersionCondition(viewer))
    .orderBy(images.name, desc(imageVersions.createdAt))
    .limit(1000);
  const outputs = await db()
    .select({ slug: images.slug, name: images.name, projectName: projects.name })
    .from(images)
    .innerJoin(projects, eq(projects.id, images.projectId))
    .where(imageInProjectCondition(viewer, "contribute"))
    .orderBy(images.name)
    .limit(1000);
  const named = await db()
    .select({ image: images.slug, name: channels.name })
    .from(channels)
    .innerJoin(images, eq(images.id, channels.imageId))
    .where(visibleImagesCondition(viewer, "images"))
    .orderBy(channels.name)
    .limit(1000);
  return { bases, outputs, channels: named, maxGrowBytes: env().HANGAR_MAX_GROW_SIZE };
}

/** Who may attach files to a project's recipes: members and owners; outsiders don't learn it exists. */
export function requireAttachAccess(viewer: Viewer, projectId: string): void {
  if (canInProject(viewer, projectId, "contribute")) return;
  if (!canInProject(viewer, projectId, "view"))
    throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  throw new HangarError("forbidden", "You can only attach files in projects where you are a member or owner.");
}

/** Attaches an uploaded file (already in the blob store) to a project's recipes. */
export async function attachRecipeFile({
  viewer,
  projectId,
  file,
}: {
  viewer: Viewer;
  projectId: string;
  file: { sha256: string; sha512: string; size: number; filename: string };
}): Promise<void> {
  requireAttachAccess(viewer, projectId);
  await db().transaction(async (tx: Tx) => {
    await tx.insert(blobs).values({ sha256: file.sha256, sha512: file.sha512, size: file.size }).onConflictDoNothing();
    await tx
      .insert(recipeFiles)
      .values({ projectId, sha256: file.sha256, size: file.size, filename: file.filename, uploadedById: viewer.id })
      .onConflictDoNothing();
    await recordAudit(
      {
        actorId: viewer.id,
        action: "recipe.attach-file",
        objectType: "project",
        objectId: projectId,
        after: { sha256: file.sha256, filename: file.filename, size: file.size },
      },
      tx,
    );
  });
}

export interface RecipeRecord {
  id: string;
  name: string;
  projectId: string;
  projectSlug: string;
  latestRevision: number;
  document: RecipeDocument;
  createdAt: Date;
  updatedAt: Date;
  /** createdAt at the database's full precision, for a keyset cursor. */
  position: string;
}

/**
 * Recipes the viewer sees with their latest document, newest first, for the API: one by id, or a
 * page after a (createdAt, id) position, optionally in one project.
 */
export async function listRecipeRecords({
  viewer,
  id,
  projectSlug,
  after,
  limit = 50,
}: {
  viewer: Viewer;
  id?: string;
  projectSlug?: string;
  after?: { position: string; id: string };
  limit?: number;
}): Promise<RecipeRecord[]> {
  if (id !== undefined && !isUuid(id)) return [];
  return db()
    .select({
      id: recipes.id,
      name: recipes.name,
      projectId: recipes.projectId,
      projectSlug: projects.slug,
      latestRevision: recipes.latestRevision,
      document: recipeRevisions.document,
      createdAt: recipes.createdAt,
      updatedAt: recipes.updatedAt,
      position: sql<string>`${recipes.createdAt}::text`,
    })
    .from(recipes)
    .innerJoin(projects, eq(projects.id, recipes.projectId))
    .innerJoin(
      recipeRevisions,
      and(eq(recipeRevisions.recipeId, recipes.id), eq(recipeRevisions.revision, recipes.latestRevision)),
    )
    .where(
      and(
        recipeVisibleCondition(viewer),
        id !== undefined ? eq(recipes.id, id) : undefined,
        projectSlug !== undefined ? eq(projects.slug, projectSlug) : undefined,
        after && isUuid(after.id)
          ? sql`(${recipes.createdAt}, ${recipes.id}) < (${after.position}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(recipes.createdAt), desc(recipes.id))
    .limit(limit);
}
