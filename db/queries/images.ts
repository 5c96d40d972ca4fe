import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db, type Database } from "../client";
import {
  blobs,
  imageVersions,
  images,
  projects,
  tags,
  users,
  type Architecture,
  type DiskFormat,
  type ReleaseStatus,
  type Visibility,
} from "../schema";
import { recordAudit } from "./audit";
import { insertContentScanRequest } from "./content-scans";
import {
  AccessDenied,
  imageInProjectCondition,
  projectCapabilities,
  releasedCondition,
  visibleImagesCondition,
  visibleVersionCondition,
  type ProjectCapabilities,
  type ProjectCapability,
} from "./access";
import type { Viewer } from "./users";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Changing an image needs one of these in its project (access.ts). */
type ImageChange = Exclude<ProjectCapability, "view">;

export interface ImageDetail {
  id: string;
  slug: string;
  name: string;
  description: string;
  os: string;
  osVersion: string;
  arch: Architecture;
  visibility: Visibility;
  tags: string[];
  properties: Record<string, string>;
  projectId: string;
  projectSlug: string;
  projectName: string;
  createdByEmail: string | null;
  createdAt: Date;
  updatedAt: Date;
  latestVersion: string | null;
  latestVersionId: string | null;
  /** What the viewer may do in its project (access.ts): contribute edits metadata and tags and adds versions, manage sets visibility, shares and channels. */
  can: ProjectCapabilities;
}

export async function getImageBySlug({ viewer, slug }: { viewer: Viewer; slug: string }): Promise<ImageDetail | null> {
  const [row] = await db()
    .select({
      id: images.id,
      slug: images.slug,
      name: images.name,
      description: images.description,
      os: images.os,
      osVersion: images.osVersion,
      arch: images.arch,
      visibility: images.visibility,
      tags: images.tags,
      properties: images.properties,
      projectId: images.projectId,
      projectSlug: projects.slug,
      projectName: projects.name,
      createdByEmail: users.email,
      createdAt: images.createdAt,
      updatedAt: images.updatedAt,
      // Outside its project, an image's newest version is its newest released one.
      latestVersion: sql<
        string | null
      >`case when ${imageInProjectCondition(viewer, "view")} then ${images.latestVersion} else ${images.releasedVersion} end`,
      latestVersionId: sql<
        string | null
      >`case when ${imageInProjectCondition(viewer, "view")} then ${images.latestVersionId} else ${images.releasedVersionId} end`,
    })
    .from(images)
    .innerJoin(projects, eq(projects.id, images.projectId))
    .leftJoin(users, eq(users.id, images.createdById))
    .where(and(eq(images.slug, slug), visibleImagesCondition(viewer, "images")))
    .limit(1);
  return row ? { ...row, can: projectCapabilities(viewer, row.projectId) } : null;
}

export interface VersionRow {
  id: string;
  version: string;
  format: DiskFormat | null;
  virtualSize: number | null;
  fileSize: number | null;
  sha256: string | null;
  dataStatus: string;
  failureReason: string | null;
  releaseStatus: ReleaseStatus;
  source: string;
  createdByEmail: string | null;
  createdAt: Date;
}

export async function listImageVersions({
  viewer,
  imageId,
}: {
  viewer: Viewer;
  imageId: string;
}): Promise<VersionRow[]> {
  return db()
    .select({
      id: imageVersions.id,
      version: imageVersions.version,
      format: imageVersions.format,
      virtualSize: imageVersions.virtualSize,
      fileSize: imageVersions.fileSize,
      sha256: imageVersions.sha256,
      dataStatus: imageVersions.dataStatus,
      failureReason: imageVersions.failureReason,
      releaseStatus: imageVersions.releaseStatus,
      source: imageVersions.source,
      createdByEmail: users.email,
      createdAt: imageVersions.createdAt,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .leftJoin(users, eq(users.id, imageVersions.createdById))
    .where(and(eq(imageVersions.imageId, imageId), visibleVersionCondition(viewer)))
    .orderBy(desc(imageVersions.createdAt))
    .limit(500);
}

/**
 * Tags of images the viewer may see, by name, optionally those starting with `prefix`: a tag that
 * only private images of other projects carry names something the viewer must not learn. Each
 * dictionary tag walks its holders in image_tags and stops at the first one the viewer sees; the
 * LIMIT 1 keeps PostgreSQL from turning this into a join over every visible image instead.
 */
export async function listVisibleTags({
  viewer,
  prefix = "",
  limit,
}: {
  viewer: Viewer;
  prefix?: string;
  limit: number;
}): Promise<string[]> {
  const like = `${prefix.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  const rows = await db().execute<{ name: string }>(sql`
    select t.name from tags t
    cross join lateral (
      select 1 from image_tags it join images i on i.id = it.image_id
      where it.tag = t.name and ${visibleImagesCondition(viewer, "i")}
      limit 1) seen
    where t.name like ${like}
    order by t.name limit ${limit}`);
  return rows.rows.map((row) => row.name);
}

/** Returns the ids among `imageIds` whose project the viewer doesn't hold `need` in (or that don't exist). */
async function deniedImageIds(tx: Tx, viewer: Viewer, imageIds: string[], need: ImageChange): Promise<string[]> {
  const allowed = await tx
    .select({ id: images.id })
    .from(images)
    .where(and(inArray(images.id, imageIds), imageInProjectCondition(viewer, need)))
    .for("update");
  const allowedIds = new Set(allowed.map((row) => row.id));
  return imageIds.filter((id) => !allowedIds.has(id));
}

/**
 * The refusal for images the viewer may not change: `forbidden` (AccessDenied) when they see at
 * least one of them, `not_found` when they see none, so an id from elsewhere tells them nothing.
 */
async function refuseImages(tx: Tx, viewer: Viewer, denied: string[]): Promise<never> {
  const seen = await tx
    .select({ id: images.id })
    .from(images)
    .where(and(inArray(images.id, denied), visibleImagesCondition(viewer, "images")));
  if (seen.length) throw new AccessDenied(denied);
  throw new HangarError(
    "not_found",
    denied.length > 1
      ? `You can't change ${denied.length} of the selected images: they don't exist, or you can't see them. Nothing was changed.`
      : "You can't change that image: it doesn't exist, or you can't see it. Nothing was changed.",
  );
}

/** Adds or removes one tag on several images, all or nothing. */
export async function changeImageTag({
  viewer,
  imageIds,
  tag,
  op,
}: {
  viewer: Viewer;
  imageIds: string[];
  tag: string;
  op: "add" | "remove";
}): Promise<{ changed: number }> {
  return db().transaction(async (tx) => {
    const denied = await deniedImageIds(tx, viewer, imageIds, "contribute");
    if (denied.length) await refuseImages(tx, viewer, denied);
    if (op === "add") await tx.insert(tags).values({ name: tag }).onConflictDoNothing();
    const changed = await tx
      .update(images)
      .set({
        tags:
          op === "add"
            ? sql`array_append(${images.tags}, ${tag}::text)`
            : sql`array_remove(${images.tags}, ${tag}::text)`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          inArray(images.id, imageIds),
          op === "add"
            ? sql`not (${images.tags} @> array[${tag}]::text[])`
            : sql`${images.tags} @> array[${tag}]::text[]`,
        ),
      )
      .returning({ id: images.id, tags: images.tags });
    for (const row of changed) {
      await recordAudit(
        {
          actorId: viewer.id,
          action: op === "add" ? "image.tag_add" : "image.tag_remove",
          objectType: "image",
          objectId: row.id,
          after: { tag, tags: row.tags },
        },
        tx,
      );
    }
    return { changed: changed.length };
  });
}

export const MAX_TAGS_PER_IMAGE = 32;

/** Names of the images among `imageIds` the viewer may tag that have no room for `tag`; others are refused later. */
export async function countTooManyTags({
  viewer,
  imageIds,
  tag,
}: {
  viewer: Viewer;
  imageIds: string[];
  tag: string;
}): Promise<string[]> {
  const rows = await db()
    .select({ name: images.name })
    .from(images)
    .where(
      and(
        inArray(images.id, imageIds),
        imageInProjectCondition(viewer, "contribute"),
        sql`cardinality(${images.tags}) >= ${MAX_TAGS_PER_IMAGE}`,
        sql`not (${images.tags} @> array[${tag}]::text[])`,
      ),
    );
  return rows.map((row) => row.name);
}

export async function updateImageFields({
  viewer,
  imageId,
  need,
  action,
  fields,
}: {
  viewer: Viewer;
  imageId: string;
  /** Editing metadata and properties needs contribute in the image's project; visibility needs manage. */
  need: ImageChange;
  action: string;
  fields: Partial<{
    name: string;
    description: string;
    os: string;
    osVersion: string;
    arch: Architecture;
    visibility: Visibility;
    properties: Record<string, string>;
  }>;
}): Promise<boolean> {
  return db().transaction(async (tx) => {
    const denied = await deniedImageIds(tx, viewer, [imageId], need);
    if (denied.length) await refuseImages(tx, viewer, denied);
    const keys = Object.keys(fields) as (keyof typeof fields)[];
    const [before] = await tx
      .select({
        name: images.name,
        description: images.description,
        os: images.os,
        osVersion: images.osVersion,
        arch: images.arch,
        visibility: images.visibility,
        properties: images.properties,
      })
      .from(images)
      .where(eq(images.id, imageId));
    if (!before) return false;
    await tx
      .update(images)
      .set({ ...fields, updatedAt: sql`now()` })
      .where(eq(images.id, imageId));
    await recordAudit(
      {
        actorId: viewer.id,
        action,
        objectType: "image",
        objectId: imageId,
        before: Object.fromEntries(keys.map((key) => [key, before[key]])),
        after: fields,
      },
      tx,
    );
    return true;
  });
}

/** The properties of an image the viewer may edit, or null (the change is then refused by updateImageFields). */
export async function getImageProperties({
  viewer,
  imageId,
}: {
  viewer: Viewer;
  imageId: string;
}): Promise<Record<string, string> | null> {
  const [row] = await db()
    .select({ properties: images.properties })
    .from(images)
    .where(and(eq(images.id, imageId), imageInProjectCondition(viewer, "contribute")));
  return row?.properties ?? null;
}

/** Copies the newest ready version's facts onto the image row, for the catalog. */
export async function refreshImageLatest(tx: Tx | Database, imageId: string): Promise<void> {
  await tx.execute(sql`
    with v as (
      select id, version, format, virtual_size, release_status, created_at from image_versions
      where image_id = ${imageId} and data_status = 'ready'
      order by created_at desc, id desc limit 1
    ), r as (
      select id, version, format, virtual_size, release_status from image_versions
      where image_id = ${imageId} and data_status = 'ready' and ${releasedCondition(sql`release_status`)}
      order by created_at desc, id desc limit 1
    )
    update images i set
      released_version_id = (select id from r),
      released_version = (select version from r),
      released_format = (select format from r),
      released_virtual_size = coalesce((select virtual_size from r), 0),
      released_release_status = (select release_status from r),
      released_count = (select count(*) from image_versions where image_id = ${imageId} and ${releasedCondition(sql`release_status`)}),
      latest_version_id = (select id from v),
      latest_version = (select version from v),
      latest_format = (select format from v),
      latest_virtual_size = coalesce((select virtual_size from v), 0),
      latest_release_status = (select release_status from v),
      version_count = (select count(*) from image_versions where image_id = ${imageId}),
      updated_at = greatest(i.updated_at, coalesce((select created_at from v), i.updated_at))
    where i.id = ${imageId}`);
}

export async function createImage({
  tx,
  actorId,
  values,
}: {
  tx: Tx;
  actorId: string | null;
  values: {
    slug: string;
    name: string;
    description?: string;
    os: string;
    osVersion?: string;
    arch?: Architecture;
    visibility?: Visibility;
    projectId: string;
    tags?: string[];
    properties?: Record<string, string>;
  };
}) {
  const [image] = await tx
    .insert(images)
    .values({ ...values, createdById: actorId })
    .returning({ id: images.id, slug: images.slug });
  if (!image) throw new Error("inserting the image returned nothing");
  if (values.tags?.length)
    await tx
      .insert(tags)
      .values(values.tags.map((name) => ({ name })))
      .onConflictDoNothing();
  await recordAudit({ actorId, action: "image.create", objectType: "image", objectId: image.id, after: values }, tx);
  return image;
}

/** Creates an image in a transaction of its own, refusing a short name that is taken (with the form's field error). */
export async function createImageWithUniqueSlug({
  actorId,
  values,
}: {
  actorId: string;
  values: Parameters<typeof createImage>[0]["values"];
}) {
  const [taken] = await db().select({ id: images.id }).from(images).where(eq(images.slug, values.slug));
  if (taken)
    throw new HangarError("conflict", `The short name ${values.slug} is taken; choose another.`, {
      slug: ["This short name is taken."],
    });
  return db().transaction((tx) => createImage({ tx, actorId, values }));
}

/** The short names of images an action just changed, for revalidating their pages. */
export async function listImageSlugs({ imageIds }: { imageIds: string[] }): Promise<string[]> {
  const rows = await db().select({ slug: images.slug }).from(images).where(inArray(images.id, imageIds));
  return rows.map((row) => row.slug);
}

/** Records a version whose bytes are already in the blob store, as ready, and requests its content scan when the bytes are new. */
export async function createReadyVersion({
  tx,
  actorId,
  values,
}: {
  tx: Tx;
  actorId: string | null;
  values: {
    imageId: string;
    version: string;
    format: DiskFormat;
    virtualSize: number;
    fileSize: number;
    sha256: string;
    /** Null when it comes later from blob.checksums (a conversion's or a flattened clone's output). */
    sha512: string | null;
    originalFilename?: string;
    releaseStatus?: ReleaseStatus;
    source: "upload" | "url" | "build" | "clone";
    parentVersionId?: string;
    backingVersionId?: string;
    recipeRevisionId?: string;
    buildId?: string;
    inspection?: Record<string, unknown>;
    createdAt?: Date;
  };
}) {
  await tx
    .insert(blobs)
    .values({ sha256: values.sha256, sha512: values.sha512, size: values.fileSize })
    .onConflictDoNothing();
  const [version] = await tx
    .insert(imageVersions)
    .values({ ...values, dataStatus: "ready", createdById: actorId })
    .returning({ id: imageVersions.id });
  if (!version) throw new Error("inserting the version returned nothing");
  // New bytes get their content read (identical bytes already have a scan); the caller sends the
  // job once this transaction commits (lib/content/requests.ts).
  const scanRequested = await insertContentScanRequest(tx, { sha256: values.sha256 });
  await refreshImageLatest(tx, values.imageId);
  await recordAudit(
    {
      actorId,
      action: "version.create",
      objectType: "version",
      objectId: version.id,
      after: { imageId: values.imageId, version: values.version, format: values.format, sha256: values.sha256 },
    },
    tx,
  );
  return { ...version, scanRequested };
}

export interface WritableImage {
  id: string;
  slug: string;
  name: string;
  projectName: string;
  latestVersion: string | null;
}

/** Images the viewer may add versions to, for the import page's picker. */
export async function listWritableImages({
  viewer,
  limit = 500,
}: {
  viewer: Viewer;
  limit?: number;
}): Promise<WritableImage[]> {
  return db()
    .select({
      id: images.id,
      slug: images.slug,
      name: images.name,
      projectName: projects.name,
      latestVersion: images.latestVersion,
    })
    .from(images)
    .innerJoin(projects, eq(projects.id, images.projectId))
    .where(imageInProjectCondition(viewer, "contribute"))
    .orderBy(projects.name, images.name)
    .limit(limit);
}

export interface VersionProgress {
  id: string;
  version: string;
  dataStatus: string;
  failureReason: string | null;
  bytesReceived: number;
  bytesTotal: number | null;
  format: DiskFormat | null;
  sha256: string | null;
  imageSlug: string;
}

export async function getVersionProgress({
  viewer,
  versionId,
}: {
  viewer: Viewer;
  versionId: string;
}): Promise<VersionProgress | null> {
  const [row] = await db()
    .select({
      id: imageVersions.id,
      version: imageVersions.version,
      dataStatus: imageVersions.dataStatus,
      failureReason: imageVersions.failureReason,
      bytesReceived: imageVersions.bytesReceived,
      bytesTotal: imageVersions.bytesTotal,
      format: imageVersions.format,
      sha256: imageVersions.sha256,
      imageSlug: images.slug,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(imageVersions.id, versionId), visibleVersionCondition(viewer)));
  return row ?? null;
}
