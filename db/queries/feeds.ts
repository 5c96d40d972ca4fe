// Feeds and publishing. A feed is read as the person who made it, narrowed like a read token (to its
// project when it has one), so it lists exactly what that person may see now; the one public feed
// lists public images to anyone. Only published images are offered, and of those only approved and
// deprecated versions whose three checksums are known.
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Architecture, DiskFormat, VmTemplate } from "@/db/enums";
import { HangarError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { db } from "../client";
import { feeds, images, projects, users } from "../schema";
import {
  canInProject,
  isAdmin,
  narrowViewerToToken,
  requireAdmin,
  requireInProject,
  requireOnImage,
  visibleImagesCondition,
} from "./access";
import { recordAudit } from "./audit";
import { getViewerById, type Viewer } from "./users";

export interface FeedRow {
  id: string;
  kind: "token" | "public";
  name: string;
  prefix: string | null;
  projectId: string | null;
  projectSlug: string | null;
  createdById: string;
  createdByEmail: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedAddress: string | null;
  useCount: number;
  revokedAt: Date | null;
}

const rowColumns = {
  id: feeds.id,
  kind: feeds.kind,
  name: feeds.name,
  prefix: feeds.prefix,
  projectId: feeds.projectId,
  projectSlug: projects.slug,
  createdById: feeds.createdById,
  createdByEmail: users.email,
  createdAt: feeds.createdAt,
  lastUsedAt: feeds.lastUsedAt,
  lastUsedAddress: feeds.lastUsedAddress,
  useCount: feeds.useCount,
  revokedAt: feeds.revokedAt,
};

function feedRows() {
  return db()
    .select(rowColumns)
    .from(feeds)
    .innerJoin(users, eq(users.id, feeds.createdById))
    .leftJoin(projects, eq(projects.id, feeds.projectId));
}

export async function getFeed({ id }: { id: string }): Promise<FeedRow | null> {
  const [row] = await feedRows().where(eq(feeds.id, id));
  return row ?? null;
}

/**
 * Stores a token feed (project owners for their project, admins for a project or for everything);
 * the caller made the secret and keeps only its hash here.
 */
export async function insertFeed({
  viewer,
  name,
  projectId,
  prefix,
  secretHash,
  clashesWith,
}: {
  viewer: Viewer;
  name: string;
  projectId: string | null;
  prefix: string;
  secretHash: string;
  /**
   * Whether a live feed's name would give this one's platform names that clash with it (the rule is
   * the platform's, lib/feeds): such a name is refused, checked under a lock so two at once can't both pass.
   */
  clashesWith?: (liveName: string) => boolean;
}): Promise<FeedRow> {
  if (projectId) requireInProject(viewer, projectId, "manage", "create feeds for this project");
  else requireAdmin(viewer, "create a feed of every project");
  const id = await db().transaction(async (tx) => {
    if (clashesWith) {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('hangar.feeds.name'))`);
      const live = await tx
        .select({ name: feeds.name })
        .from(feeds)
        .where(and(eq(feeds.kind, "token"), isNull(feeds.revokedAt)));
      const clash = live.find((feed) => clashesWith(feed.name));
      if (clash)
        throw new HangarError(
          "conflict",
          `A feed named “${clash.name}” already exists, and OpenNebula needs each feed's apps to have names of their own. Choose another name.`,
          { name: ["Already in use by another feed."] },
        );
    }
    const [inserted] = await tx
      .insert(feeds)
      .values({ kind: "token", name, projectId, prefix, secretHash, createdById: viewer.id })
      .returning({ id: feeds.id });
    await recordAudit(
      {
        actorId: viewer.id,
        action: "feed.create",
        objectType: "feed",
        objectId: inserted!.id,
        after: { name, projectId },
      },
      tx,
    );
    return inserted!.id;
  });
  return (await getFeed({ id }))!;
}

/** Turns the anonymous feed of public images on (an admin's switch); on twice is still one feed. */
export async function enablePublicFeed({ viewer }: { viewer: Viewer }): Promise<FeedRow> {
  requireAdmin(viewer, "turn on the public feed");
  const [existing] = await db()
    .select({ id: feeds.id })
    .from(feeds)
    .where(and(eq(feeds.kind, "public"), isNull(feeds.revokedAt)));
  if (existing) return (await getFeed({ id: existing.id }))!;
  const id = await db().transaction(async (tx) => {
    const [inserted] = await tx
      .insert(feeds)
      .values({ kind: "public", name: "Public images", createdById: viewer.id })
      .onConflictDoNothing()
      .returning({ id: feeds.id });
    if (!inserted) return null;
    await recordAudit({ actorId: viewer.id, action: "feed.public_on", objectType: "feed", objectId: inserted.id }, tx);
    return inserted.id;
  });
  if (id) return (await getFeed({ id }))!;
  return enablePublicFeed({ viewer });
}

/** Feeds the viewer may see and revoke: all for admins, their projects' for project owners. */
export async function listFeeds({ viewer }: { viewer: Viewer }): Promise<FeedRow[]> {
  const rows = await feedRows().orderBy(desc(feeds.createdAt), desc(feeds.id));
  return rows.filter((row) => canManageFeed(viewer, row));
}

export function canManageFeed(viewer: Viewer, feed: { projectId: string | null }): boolean {
  if (isAdmin(viewer)) return true;
  return feed.projectId !== null && canInProject(viewer, feed.projectId, "manage");
}

/** Revokes a feed at once: its URL answers 404 from the next request on. */
export async function revokeFeed({ viewer, id }: { viewer: Viewer; id: string }): Promise<FeedRow> {
  const feed = await getFeed({ id });
  if (!feed || !canManageFeed(viewer, feed)) throw new HangarError("not_found", "There is no such feed.");
  if (feed.revokedAt) return feed;
  await db().transaction(async (tx) => {
    await tx
      .update(feeds)
      .set({ revokedAt: new Date(), revokedById: viewer.id })
      .where(and(eq(feeds.id, id), isNull(feeds.revokedAt)));
    await recordAudit(
      { actorId: viewer.id, action: "feed.revoke", objectType: "feed", objectId: id, before: { name: feed.name } },
      tx,
    );
  });
  return (await getFeed({ id }))!;
}

/**
 * The live feed a request names (a secret's hash, or the public feed), counting the use; null when
 * there is none, it was revoked, or its creator can no longer sign in. `viewer` is who it reads as:
 * null for the public feed (public images only).
 */
export async function openFeedForRequest(
  key: { secretHash: string } | { public: true },
  { address, count = true }: { address: string | null; count?: boolean },
): Promise<{ feed: FeedRow; viewer: Viewer | null } | null> {
  const condition =
    "public" in key
      ? and(eq(feeds.kind, "public"), isNull(feeds.revokedAt))
      : and(eq(feeds.secretHash, key.secretHash), isNull(feeds.revokedAt));
  const [feed] = await feedRows().where(condition);
  if (!feed) return null;
  // A platform's request is a use; Hangar's own pages reading the public feed are not. The count
  // commits without waiting for the WAL flush (a crash may lose the last few uses, never a feed), so
  // a download's first byte does not wait for a disk sync; it runs beside the viewer lookup.
  const counted = count
    ? db().transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL synchronous_commit TO OFF`);
        await tx
          .update(feeds)
          .set({ useCount: sql`${feeds.useCount} + 1`, lastUsedAt: new Date(), lastUsedAddress: address })
          .where(eq(feeds.id, feed.id));
      })
    : Promise.resolve();
  if (feed.kind === "public") {
    await counted;
    return { feed, viewer: null };
  }
  const [owner] = await Promise.all([getViewerById({ id: feed.createdById }), counted]);
  if (!owner) return null;
  const viewer = narrowViewerToToken(owner, {
    id: feed.id,
    // A global feed reads as its admin creator; anything else reads like a read token.
    scope: feed.projectId === null && isAdmin(owner) ? "admin" : "read",
    projectId: feed.projectId,
    projectRole: feed.projectId === null ? null : "viewer",
  });
  return { feed, viewer };
}

/** One offered version with everything a feed document needs but its URLs (lib/feeds builds those). */
export interface FeedVersionRow {
  versionId: string;
  imageId: string;
  imageSlug: string;
  imageName: string;
  imageDescription: string;
  os: string;
  osVersion: string;
  arch: Architecture;
  version: string;
  /** Only approved versions are offered; a deprecated one still is, with its status. */
  releaseStatus: "approved" | "deprecated";
  /** The published channels that point at this version now (`latest`: the newest approved one). */
  channels: string[];
  format: DiskFormat;
  fileSize: number;
  virtualSize: number;
  sha256: string;
  sha512: string;
  md5: string;
  createdAt: Date;
  /** When it was first approved (so a re-approval keeps its simplestreams serial); null without a review row. */
  approvedAt: Date | null;
  /** The publishing project's name. */
  publisher: string;
  tags: string[];
  vmTemplate: VmTemplate;
}

/**
 * The versions a feed offers, oldest first: ready, approved or deprecated versions of published
 * images the feed's reader sees (in its project, for a project feed), once sha256, sha512 and md5
 * are all known (of a linked clone: of its flattened copy, once made). `channels` are the image's
 * published channels pointing at the version (`latest` is the newest approved one).
 */
export async function listFeedVersions({
  viewer,
  projectId,
  imageSlug,
  versionId,
  publishedOnly = true,
}: {
  viewer: Viewer | null;
  projectId: string | null;
  imageSlug?: string;
  /** Only this version (a file request), when it is offered. */
  versionId?: string;
  /** false: also versions of unpublished images (the version page's "Use it on…" with download URLs). */
  publishedOnly?: boolean;
}): Promise<FeedVersionRow[]> {
  if (versionId !== undefined && !isUuid(versionId)) return [];
  const visible = viewer ? visibleImagesCondition(viewer, "i") : sql`i.visibility = 'public'`;
  const inProject = projectId ? sql`and i.project_id = ${projectId}` : sql``;
  const oneImage = imageSlug ? sql`and i.slug = ${imageSlug}` : sql``;
  // A file request narrows to the version's image first, so `latest` is not worked out for every image.
  const versionsImage = versionId
    ? sql`and i.id = (select image_id from image_versions where id = ${versionId})`
    : sql``;
  const result = await db().execute<{
    version_id: string;
    image_id: string;
    image_slug: string;
    image_name: string;
    image_description: string;
    os: string;
    os_version: string;
    arch: Architecture;
    version: string;
    release_status: "approved" | "deprecated";
    channels: string[];
    format: DiskFormat;
    file_size: string;
    virtual_size: string;
    sha256: string;
    sha512: string;
    md5: string;
    created_at: string;
    approved_at: string | null;
    publisher: string;
    tags: string[];
    vm_template: VmTemplate;
  }>(sql`
    with offered as materialized (
      select i.* from images i
      where ${publishedOnly ? sql`i.published` : sql`true`} and ${visible} ${inProject} ${oneImage} ${versionsImage}
    ), latest as materialized (
      select distinct on (v.image_id) v.image_id, v.id
      from image_versions v join offered i on i.id = v.image_id
      where v.release_status = 'approved' and v.data_status = 'ready'
      order by v.image_id, v.created_at desc, v.id desc
    )
    select v.id as version_id, i.id as image_id, i.slug as image_slug, i.name as image_name,
      i.description as image_description, i.os, i.os_version, i.arch, v.version, v.release_status,
      array(
        select name from unnest(
          case when l.id is not null and 'latest' = any(i.published_channels) then array['latest'] else '{}'::text[] end
          || coalesce(named.names, '{}'::text[])
        ) name order by name
      ) as channels,
      v.format, coalesce(flat.file_size, v.file_size) as file_size, v.virtual_size, b.sha256, b.sha512, b.md5, v.created_at,
      approval.at as approved_at, p.name as publisher, i.tags, i.vm_template
    from offered i
    join projects p on p.id = i.project_id
    join image_versions v on v.image_id = i.id
    left join latest l on l.id = v.id
    left join lateral (
      select array_agg(c.name) as names from channels c
      where c.image_id = i.id and c.version_id = v.id and c.name = any(i.published_channels)
    ) named on true
    left join lateral (
      select min(r.created_at) as at from reviews r where r.version_id = v.id and r.decision = 'approved'
    ) approval on true
    -- A linked clone's own file names its base as backing file: platforms get its flattened copy,
    -- once there is one.
    left join conversions flat on v.backing_version_id is not null and flat.version_id = v.id
      and flat.target_format = v.format and flat.status = 'succeeded'
    join blobs b on b.sha256 = case when v.backing_version_id is null then v.sha256 else flat.sha256 end
    where v.release_status in ('approved', 'deprecated') and v.data_status = 'ready'
      and b.sha512 is not null and b.md5 is not null ${versionId ? sql`and v.id = ${versionId}` : sql``}
    order by v.created_at, v.id`);
  return result.rows.map((row) => ({
    versionId: row.version_id,
    imageId: row.image_id,
    imageSlug: row.image_slug,
    imageName: row.image_name,
    imageDescription: row.image_description,
    os: row.os,
    osVersion: row.os_version,
    arch: row.arch,
    version: row.version,
    releaseStatus: row.release_status,
    channels: row.channels,
    format: row.format,
    fileSize: Number(row.file_size),
    virtualSize: Number(row.virtual_size),
    sha256: row.sha256,
    sha512: row.sha512,
    md5: row.md5,
    createdAt: new Date(row.created_at),
    approvedAt: row.approved_at ? new Date(row.approved_at) : null,
    publisher: row.publisher,
    tags: row.tags,
    vmTemplate: row.vm_template,
  }));
}

/** Publishes an image to platforms (owners and admins), on these channels, with this VM template. */
export async function setImagePublishing({
  viewer,
  imageId,
  published,
  channels,
  vmTemplate,
}: {
  viewer: Viewer;
  imageId: string;
  published: boolean;
  channels?: string[];
  vmTemplate?: VmTemplate;
}): Promise<void> {
  const [image] = await db()
    .select({
      projectId: images.projectId,
      visible: sql<boolean>`${visibleImagesCondition(viewer, "images")}`,
      published: images.published,
      publishedChannels: images.publishedChannels,
      vmTemplate: images.vmTemplate,
    })
    .from(images)
    .where(eq(images.id, imageId));
  requireOnImage(viewer, image ?? null, "manage", "publish it to platforms");
  const after = {
    published,
    publishedChannels: channels ?? image!.publishedChannels,
    vmTemplate: vmTemplate ?? image!.vmTemplate,
  };
  await db().transaction(async (tx) => {
    await tx
      .update(images)
      .set({ ...after, updatedAt: new Date() })
      .where(eq(images.id, imageId));
    await recordAudit(
      {
        actorId: viewer.id,
        action: published ? "image.publish" : "image.unpublish",
        objectType: "image",
        objectId: imageId,
        before: {
          published: image!.published,
          publishedChannels: image!.publishedChannels,
          vmTemplate: image!.vmTemplate,
        },
        after,
      },
      tx,
    );
  });
}

/** Every feed, newest first: the operator's command lists them all. */
export async function listAllFeeds(): Promise<FeedRow[]> {
  return feedRows().orderBy(desc(feeds.createdAt), desc(feeds.id));
}

export interface ImagePublishing {
  imageName: string;
  published: boolean;
  publishedChannels: string[];
  vmTemplate: VmTemplate;
}

/** Whether and how an image is published, for anyone who sees the image; null otherwise. */
export async function getImagePublishing({
  viewer,
  imageId,
}: {
  viewer: Viewer;
  imageId: string;
}): Promise<ImagePublishing | null> {
  const [row] = await db()
    .select({
      imageName: images.name,
      published: images.published,
      publishedChannels: images.publishedChannels,
      vmTemplate: images.vmTemplate,
    })
    .from(images)
    .where(and(eq(images.id, imageId), visibleImagesCondition(viewer, "images")));
  return row ?? null;
}
