import type { StoredInspection } from "@/lib/images/inspector/types";
import { and, eq, sql } from "drizzle-orm";
import { isUuid } from "@/lib/ids";
import { db } from "../client";
import type { ReleaseAction } from "@/lib/governance/release";
import { conversions, imageVersions, images, type DiskFormat, type ReleaseStatus } from "../schema";
import {
  usableVersionCondition,
  versionCapabilities,
  versionProducerIds,
  visibleVersionCondition,
  type ProjectCapabilities,
} from "./access";
import { approvedVersionsSql } from "./release-sql";
import type { Viewer } from "./users";

export interface DownloadableVersion {
  id: string;
  version: string;
  format: DiskFormat;
  sha256: string;
  fileSize: number;
  imageSlug: string;
  /** A linked clone's file needs its base: it is only ever downloaded flattened. */
  linked: boolean;
}

/** A ready version the viewer may see and use, or null. */
export async function getDownloadableVersion({
  viewer,
  versionId,
}: {
  viewer: Viewer;
  versionId: string;
}): Promise<DownloadableVersion | null> {
  const [row] = await db()
    .select({
      id: imageVersions.id,
      version: imageVersions.version,
      format: imageVersions.format,
      sha256: imageVersions.sha256,
      fileSize: imageVersions.fileSize,
      imageSlug: images.slug,
      linked: sql<boolean>`${imageVersions.backingVersionId} is not null`,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(imageVersions.id, versionId), eq(imageVersions.dataStatus, "ready"), usableVersionCondition(viewer)));
  if (!row?.format || !row.sha256 || row.fileSize === null) return null;
  return { ...row, format: row.format, sha256: row.sha256, fileSize: row.fileSize };
}

export interface ConversionRow {
  id: string;
  targetFormat: DiskFormat;
  status: string;
  progress: number;
  sha256: string | null;
  fileSize: number | null;
  failureReason: string | null;
}

const conversionColumns = {
  id: conversions.id,
  targetFormat: conversions.targetFormat,
  status: conversions.status,
  progress: conversions.progress,
  sha256: conversions.sha256,
  fileSize: conversions.fileSize,
  failureReason: conversions.failureReason,
};

export async function listConversions({ versionId }: { versionId: string }): Promise<ConversionRow[]> {
  return db()
    .select(conversionColumns)
    .from(conversions)
    .where(eq(conversions.versionId, versionId))
    .orderBy(conversions.targetFormat);
}

export async function getConversion({
  versionId,
  targetFormat,
}: {
  versionId: string;
  targetFormat: DiskFormat;
}): Promise<ConversionRow | null> {
  const [row] = await db()
    .select(conversionColumns)
    .from(conversions)
    .where(and(eq(conversions.versionId, versionId), eq(conversions.targetFormat, targetFormat)));
  return row ?? null;
}

/**
 * Returns the conversion for (version, format), creating it or re-arming a failed one. `queued`
 * says whether the caller must enqueue a job for it.
 */
export async function requestConversion({
  versionId,
  targetFormat,
  requestedById,
}: {
  versionId: string;
  targetFormat: DiskFormat;
  requestedById: string;
}) {
  const [inserted] = await db()
    .insert(conversions)
    .values({ versionId, targetFormat, requestedById })
    .onConflictDoUpdate({
      target: [conversions.versionId, conversions.targetFormat],
      set: { status: "queued", progress: 0, failureReason: null, updatedAt: sql`now()` },
      setWhere: sql`${conversions.status} = 'failed'`,
    })
    .returning({ id: conversions.id });
  if (inserted) return { id: inserted.id, queued: true };
  const existing = await getConversion({ versionId, targetFormat });
  if (!existing) throw new Error("conversion vanished");
  return { id: existing.id, queued: false };
}

export interface VersionDetail {
  id: string;
  version: string;
  format: DiskFormat | null;
  virtualSize: number | null;
  fileSize: number | null;
  sha256: string | null;
  /** sha512 and md5 are null until known: a converted or flattened file's come from blob.checksums after it is ready. */
  sha512: string | null;
  md5: string | null;
  dataStatus: string;
  failureReason: string | null;
  releaseStatus: string;
  source: string;
  sourceUrl: string | null;
  originalFilename: string | null;
  inspection: StoredInspection | null;
  createdAt: Date;
  createdByEmail: string | null;
  imageId: string;
  imageSlug: string;
  imageName: string;
  /** Lineage: the version this one was built (or cloned) from, and the build that made it. */
  parent: { imageSlug: string; version: string } | null;
  build: { id: string; number: number; recipeId: string; revision: number } | null;
  /** Everyone who produced it (see versionProducerIds): none of them may approve it. */
  producers: { id: string; email: string }[];
  projectId: string;
  replacement: { version: string } | null;
  revokedAncestor: { imageSlug: string; version: string } | null;
  /** A linked clone: a qcow2 overlay on its parent's blob. */
  linked: boolean;
  /** The viewer produced it, so the four-eyes rule keeps them from approving it. */
  producedByViewer: boolean;
  /** What the viewer may do (access.ts): release actions its state allows them, rebuild (contribute), delete (manage). */
  can: ProjectCapabilities & { release: ReleaseAction[] };
}

export async function getVersionDetail({
  viewer,
  imageSlug,
  version,
}: {
  viewer: Viewer;
  imageSlug: string;
  version: string;
}): Promise<VersionDetail | null> {
  const result = await db().execute<Record<string, unknown>>(sql`
    select v.id, v.version, v.format, v.virtual_size, v.file_size, v.sha256, coalesce(bl.sha512, v.sha512) as sha512,
           bl.md5, v.data_status, v.failure_reason,
           v.release_status, v.source, v.source_url, v.original_filename, v.inspection, v.created_at,
           u.email as created_by_email, images.id as image_id, images.slug as image_slug, images.name as image_name,
           pv.version as parent_version, pi.slug as parent_image_slug, v.backing_version_id is not null as linked,
           b.id as build_id, b.number as build_number, rr.recipe_id, rr.revision as recipe_revision,
           (select coalesce(json_agg(json_build_object('id', pu.id, 'email', pu.email) order by pu.email), '[]'::json)
              from users pu where pu.id in (${versionProducerIds("v")})) as producers,
           images.project_id, rv.version as replacement_version, ai.slug as revoked_image_slug, av.version as revoked_version
    from image_versions v
    join images on images.id = v.image_id
    left join blobs bl on bl.sha256 = v.sha256
    left join users u on u.id = v.created_by_id
    left join image_versions pv on pv.id = v.parent_version_id
    left join images pi on pi.id = pv.image_id
    left join builds b on b.id = v.build_id
    left join recipe_revisions rr on rr.id = v.recipe_revision_id
    left join image_versions rv on rv.id = v.replacement_version_id
    left join image_versions av on av.id = v.revoked_ancestor_id
    left join images ai on ai.id = av.image_id
    where images.slug = ${imageSlug} and v.version = ${version} and ${visibleVersionCondition(viewer, { image: "images", version: "v" })}`);
  const row = result.rows[0];
  if (!row) return null;
  const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const producers = row.producers as { id: string; email: string }[];
  const producedByViewer = producers.some((person) => person.id === viewer.id);
  const projectId = String(row.project_id);
  return {
    id: String(row.id),
    version: String(row.version),
    format: (row.format as DiskFormat | null) ?? null,
    virtualSize: num(row.virtual_size),
    fileSize: num(row.file_size),
    sha256: (row.sha256 as string | null) ?? null,
    sha512: (row.sha512 as string | null) ?? null,
    md5: (row.md5 as string | null) ?? null,
    dataStatus: String(row.data_status),
    failureReason: (row.failure_reason as string | null) ?? null,
    releaseStatus: String(row.release_status),
    source: String(row.source),
    sourceUrl: (row.source_url as string | null) ?? null,
    originalFilename: (row.original_filename as string | null) ?? null,
    inspection: (row.inspection as StoredInspection | null) ?? null,
    createdAt: new Date(String(row.created_at)),
    createdByEmail: (row.created_by_email as string | null) ?? null,
    imageId: String(row.image_id),
    imageSlug: String(row.image_slug),
    imageName: String(row.image_name),
    parent: row.parent_version
      ? { imageSlug: String(row.parent_image_slug), version: String(row.parent_version) }
      : null,
    linked: Boolean(row.linked),
    build: row.build_id
      ? {
          id: String(row.build_id),
          number: Number(row.build_number),
          recipeId: String(row.recipe_id),
          revision: Number(row.recipe_revision),
        }
      : null,
    producers,
    projectId,
    replacement: row.replacement_version ? { version: String(row.replacement_version) } : null,
    revokedAncestor: row.revoked_version
      ? { imageSlug: String(row.revoked_image_slug), version: String(row.revoked_version) }
      : null,
    producedByViewer,
    can: versionCapabilities(viewer, {
      projectId,
      releaseStatus: row.release_status as ReleaseStatus,
      ready: row.data_status === "ready",
      producer: producedByViewer,
    }),
  };
}

/** Approved versions of an image, newest first: what a retiring version can point people to. */
export async function listApprovedVersions({
  imageId,
  excludeId,
}: {
  imageId: string;
  excludeId: string;
}): Promise<{ id: string; version: string }[]> {
  const result = await db().execute<{ id: string; version: string }>(sql`
    select id, version from (${approvedVersionsSql(imageId, { excludingId: excludeId, limit: 100 })}) approved`);
  return result.rows;
}

export interface VersionFacts {
  id: string;
  imageId: string;
  imageSlug: string;
  imageName: string;
  version: string;
  format: DiskFormat | null;
  fileSize: number | null;
  virtualSize: number | null;
  sha256: string | null;
  /** Computed after the file is stored (lib/storage/checksums.ts): null until then. */
  sha512: string | null;
  md5: string | null;
  dataStatus: string;
  releaseStatus: ReleaseStatus;
  source: string;
  failureReason: string | null;
  inspection: StoredInspection | null;
  createdAt: Date;
  /** The newest boot test that reached a verdict. */
  boot: { result: string; at: Date } | null;
}

/**
 * Versions the viewer sees, by id, with what a machine needs about each (the API's Version): one
 * indexed query for a whole page, in the order of `versionIds`.
 */
export async function listVersionFacts({
  viewer,
  versionIds,
}: {
  viewer: Viewer;
  versionIds: string[];
}): Promise<VersionFacts[]> {
  const ids = versionIds.filter(isUuid).map((id) => id.toLowerCase());
  if (!ids.length) return [];
  const result = await db().execute<Record<string, unknown>>(sql`
    select v.id, v.image_id, images.slug as image_slug, images.name as image_name, v.version, v.format, v.file_size,
           v.virtual_size, v.sha256, coalesce(bl.sha512, v.sha512) as sha512, bl.md5, v.data_status, v.release_status,
           v.source, v.failure_reason, v.inspection, v.created_at, bt.result as boot_result, bt.finished_at as boot_at
    from image_versions v
    join images on images.id = v.image_id
    left join blobs bl on bl.sha256 = v.sha256
    left join lateral (
      select result, finished_at from boot_tests b where b.version_id = v.id and b.result is not null
      order by b.queued_at desc, b.id desc limit 1
    ) bt on true
    where v.id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )}) and ${visibleVersionCondition(viewer, { image: "images", version: "v" })}`);
  const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const byId = new Map(
    result.rows.map((row) => [
      String(row.id),
      {
        id: String(row.id),
        imageId: String(row.image_id),
        imageSlug: String(row.image_slug),
        imageName: String(row.image_name),
        version: String(row.version),
        format: (row.format as DiskFormat | null) ?? null,
        fileSize: num(row.file_size),
        virtualSize: num(row.virtual_size),
        sha256: (row.sha256 as string | null) ?? null,
        sha512: (row.sha512 as string | null) ?? null,
        md5: (row.md5 as string | null) ?? null,
        dataStatus: String(row.data_status),
        releaseStatus: row.release_status as ReleaseStatus,
        source: String(row.source),
        failureReason: (row.failure_reason as string | null) ?? null,
        inspection: (row.inspection as StoredInspection | null) ?? null,
        createdAt: new Date(String(row.created_at)),
        boot: row.boot_result ? { result: String(row.boot_result), at: new Date(String(row.boot_at)) } : null,
      },
    ]),
  );
  return ids.flatMap((id) => byId.get(id) ?? []);
}
