// Reads of what is inside a version: its content scan (state, OS facts, filesystems, packages),
// and what the image, review and compare pages need around them. Every read re-checks the caller
// through access.ts: a version the viewer may not see reads as null, exactly like one that does not exist.
import { sql, type SQL } from "drizzle-orm";
import type { ContentJobStatus } from "@/db/enums";
import { contentMismatches, type TypedFacts } from "@/lib/content/mismatch";
import type { ContentFacts, ContentFilesystem, ContentPackage } from "@/lib/content/types";
import { isUuid } from "@/lib/ids";
import { db } from "../client";
import { visibleVersionCondition } from "./access";
import { diffPackages, type PackageDiff } from "./packages";
import type { Viewer } from "./users";

/** What inspection found in the bytes (a succeeded scan): the stored facts, how many packages, and when. */
export type ScanFacts = Omit<ContentFacts, "packages"> & { packageCount: number; finishedAt: Date | null };

/** Where the version's scan stands: none yet, waiting or running, ended without facts, or its facts. */
export type ScanState =
  | { status: "none" }
  | { status: "queued" | "running"; queuedAt: Date; startedAt: Date | null }
  | { status: "failed" | "cancelled"; reason: string }
  | { status: "succeeded"; facts: ScanFacts };

/** A row of a version's package list. */
export type ContentPackageListRow = ContentPackage;

export interface VersionRef {
  id: string;
  imageSlug: string;
  version: string;
}

export interface VersionContents {
  versionId: string;
  version: string;
  imageId: string;
  imageSlug: string;
  imageName: string;
  /** The bytes are stored (a scan can exist only then). */
  dataReady: boolean;
  sha256: string | null;
  /** What people typed about the image. */
  typed: TypedFacts;
  /** The version it was built or cloned from, when the viewer may see it. */
  parent: VersionRef | null;
  /** The newest version of the same image before this one that the viewer may see. */
  previous: VersionRef | null;
  scan: ScanState;
  /** Where detected facts contradict the typed ones (empty until the scan succeeded). */
  mismatches: string[];
  packages: ContentPackageListRow[];
}

type Row = Record<string, unknown>;

const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
const date = (value: unknown) => (value === null || value === undefined ? null : new Date(String(value)));

const scanColumns = sql`s.status as scan_status, s.failure_reason as scan_failure_reason, s.queued_at as scan_queued_at,
  s.started_at as scan_started_at, s.finished_at as scan_finished_at, s.os_found, s.no_os_reason, s.os_type, s.distro,
  s.product_name, s.os_version as detected_os_version, s.arch as detected_arch, s.hostname, s.package_format,
  s.package_manager, s.init_system, s.kernels, s.filesystems, s.login_users, s.enabled_services, s.package_count`;

function scanStateOf(row: Row): ScanState {
  const status = row.scan_status as ContentJobStatus | null;
  if (!status) return { status: "none" };
  if (status === "queued" || status === "running")
    return { status, queuedAt: date(row.scan_queued_at) ?? new Date(), startedAt: date(row.scan_started_at) };
  if (status === "failed" || status === "cancelled")
    return {
      status,
      reason:
        text(row.scan_failure_reason) ??
        (status === "cancelled" ? "The inspection was cancelled." : "The inspection failed."),
    };
  return {
    status: "succeeded",
    facts: {
      osFound: row.os_found !== false,
      noOsReason: text(row.no_os_reason),
      osType: text(row.os_type),
      distro: text(row.distro),
      productName: text(row.product_name),
      osVersion: text(row.detected_os_version),
      arch: text(row.detected_arch),
      hostname: text(row.hostname),
      packageFormat: text(row.package_format),
      packageManager: text(row.package_manager),
      initSystem: text(row.init_system),
      kernels: (row.kernels as string[] | null) ?? [],
      filesystems: (row.filesystems as ContentFilesystem[] | null) ?? [],
      loginUsers: (row.login_users as string[] | null) ?? [],
      enabledServices: (row.enabled_services as string[] | null) ?? [],
      packageCount: Number(row.package_count ?? 0),
      finishedAt: date(row.scan_finished_at),
    },
  };
}

function typedOf(row: Row): TypedFacts {
  return {
    os: String(row.os ?? ""),
    osVersion: String(row.typed_os_version ?? ""),
    arch: String(row.typed_arch ?? ""),
  };
}

function mismatchesOf(typed: TypedFacts, scan: ScanState): string[] {
  return scan.status === "succeeded" ? contentMismatches(typed, scan.facts) : [];
}

/**
 * A version's contents for a viewer who may see it, or null (missing and hidden read the same).
 * `packages: false` leaves the package list out (the compare page needs only the facts).
 */
export async function getVersionContents({
  viewer,
  versionId,
  packages = true,
}: {
  viewer: Viewer;
  versionId: string;
  packages?: boolean;
}): Promise<VersionContents | null> {
  if (!isUuid(versionId)) return null;
  const result = await db().execute<Row>(sql`
    select v.id, v.version, v.data_status, v.sha256, i.id as image_id, i.slug as image_slug, i.name as image_name,
           i.os, i.os_version as typed_os_version, i.arch as typed_arch,
           parent.id as parent_id, parent.version as parent_version, parent.image_slug as parent_image_slug,
           prev.id as previous_id, prev.version as previous_version,
           ${scanColumns}
    from image_versions v
    join images i on i.id = v.image_id
    left join content_scans s on s.sha256 = v.sha256
    left join lateral (
      select pv.id, pv.version, pi.slug as image_slug from image_versions pv join images pi on pi.id = pv.image_id
      where pv.id = v.parent_version_id and ${visibleVersionCondition(viewer, { image: "pi", version: "pv" })}
    ) parent on true
    left join lateral (
      select ov.id, ov.version from image_versions ov
      where ov.image_id = v.image_id and (ov.created_at, ov.id) < (v.created_at, v.id)
        and ${visibleVersionCondition(viewer, { image: "i", version: "ov" })}
      order by ov.created_at desc, ov.id desc limit 1
    ) prev on true
    where v.id = ${versionId} and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}`);
  const row = result.rows[0];
  if (!row) return null;
  const scan = scanStateOf(row);
  const typed = typedOf(row);
  const sha256 = text(row.sha256);
  const packageRows =
    packages && scan.status === "succeeded" && sha256
      ? (
          await db().execute<Row>(sql`
            select name, version, epoch, upstream_version, release, arch from content_packages
            where scan_sha256 = ${sha256} order by name, arch, id`)
        ).rows.map((pkg) => ({
          name: String(pkg.name),
          version: String(pkg.version),
          epoch: Number(pkg.epoch),
          upstreamVersion: String(pkg.upstream_version),
          release: String(pkg.release),
          arch: String(pkg.arch),
        }))
      : [];
  return {
    versionId: String(row.id),
    version: String(row.version),
    imageId: String(row.image_id),
    imageSlug: String(row.image_slug),
    imageName: String(row.image_name),
    dataReady: row.data_status === "ready",
    sha256,
    typed,
    parent: row.parent_id
      ? { id: String(row.parent_id), imageSlug: String(row.parent_image_slug), version: String(row.parent_version) }
      : null,
    previous: row.previous_id
      ? { id: String(row.previous_id), imageSlug: String(row.image_slug), version: String(row.previous_version) }
      : null,
    scan,
    mismatches: mismatchesOf(typed, scan),
    packages: packageRows,
  };
}

export interface ImageDetectedFacts {
  version: string;
  facts: ScanFacts;
  mismatches: string[];
}

/** The newest version of an image the viewer may see whose scan succeeded, with its mismatches; null when none. */
export async function getImageDetectedFacts({
  viewer,
  imageId,
}: {
  viewer: Viewer;
  imageId: string;
}): Promise<ImageDetectedFacts | null> {
  if (!isUuid(imageId)) return null;
  const result = await db().execute<Row>(sql`
    select v.version, i.os, i.os_version as typed_os_version, i.arch as typed_arch, ${scanColumns}
    from image_versions v
    join images i on i.id = v.image_id
    join content_scans s on s.sha256 = v.sha256 and s.status = 'succeeded'
    where v.image_id = ${imageId} and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}
    order by v.created_at desc, v.id desc limit 1`);
  const row = result.rows[0];
  if (!row) return null;
  const scan = scanStateOf(row);
  if (scan.status !== "succeeded") return null;
  return { version: String(row.version), facts: scan.facts, mismatches: mismatchesOf(typedOf(row), scan) };
}

export interface ReviewContent {
  scan: ScanState;
  mismatches: string[];
  /** The parent's label and the package diff against it, when both were scanned. */
  parent: { imageSlug: string; version: string; id: string } | null;
  parentScan: ScanState["status"] | null;
  packageDiff: PackageDiff | null;
}

/** For each version the viewer may see: its scan, mismatches, package diff against its parent (when they may see that too) (the boot test comes with the review list itself: releases.ts listPendingReviews). */
export async function listReviewContents({
  viewer,
  versionIds,
}: {
  viewer: Viewer;
  versionIds: string[];
}): Promise<Map<string, ReviewContent>> {
  const ids = versionIds.filter(isUuid);
  if (!ids.length) return new Map();
  const result = await db().execute<Row>(sql`
    select v.id, v.sha256, i.os, i.os_version as typed_os_version, i.arch as typed_arch, ${scanColumns},
           pv.id as parent_id, pv.version as parent_version, pv.slug as parent_image_slug, pv.sha256 as parent_sha256,
           ps.status as parent_scan_status
    from image_versions v
    join images i on i.id = v.image_id
    left join content_scans s on s.sha256 = v.sha256
    left join lateral (
      select pv.id, pv.version, pv.sha256, pi.slug from image_versions pv join images pi on pi.id = pv.image_id
      where pv.id = v.parent_version_id and ${visibleVersionCondition(viewer, { image: "pi", version: "pv" })}
    ) pv on true
    left join content_scans ps on ps.sha256 = pv.sha256
    where v.id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )}) and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}`);
  const entries = await Promise.all(
    result.rows.map(async (row): Promise<[string, ReviewContent]> => {
      const scan = scanStateOf(row);
      const parentScan = (row.parent_scan_status as ContentJobStatus | null) ?? (row.parent_id ? "none" : null);
      const packageDiff =
        scan.status === "succeeded" && parentScan === "succeeded" && row.sha256 && row.parent_sha256
          ? await diffPackages({ fromSha256: String(row.parent_sha256), toSha256: String(row.sha256) })
          : null;
      return [
        String(row.id),
        {
          scan,
          mismatches: mismatchesOf(typedOf(row), scan),
          parent: row.parent_id
            ? {
                id: String(row.parent_id),
                imageSlug: String(row.parent_image_slug),
                version: String(row.parent_version),
              }
            : null,
          parentScan: parentScan as ScanState["status"] | null,
          packageDiff,
        },
      ];
    }),
  );
  return new Map(entries);
}

export interface PickableVersion {
  id: string;
  imageSlug: string;
  imageName: string;
  version: string;
}

/**
 * Versions the viewer may see, for the compare page's pickers: the newest `limit` ready ones,
 * plus those named in `include` (the current pair) when visible; grouped by image.
 */
export async function listPickableVersions({
  viewer,
  include = [],
  limit = 300,
}: {
  viewer: Viewer;
  include?: string[];
  limit?: number;
}): Promise<PickableVersion[]> {
  const wanted = include.filter(isUuid);
  const visible = visibleVersionCondition(viewer, { image: "i", version: "v" });
  const extra: SQL = wanted.length
    ? sql`union select v.id, i.slug, i.name, v.version, v.created_at from image_versions v join images i on i.id = v.image_id
        where v.id in (${sql.join(
          wanted.map((id) => sql`${id}::uuid`),
          sql`, `,
        )}) and ${visible}`
    : sql``;
  const result = await db().execute<Row>(sql`
    select id, slug, name, version from (
      (select v.id, i.slug, i.name, v.version, v.created_at from image_versions v join images i on i.id = v.image_id
       where v.data_status = 'ready' and ${visible}
       order by v.created_at desc, v.id desc limit ${limit})
      ${extra}
    ) picked order by name, slug, created_at desc, id`);
  return result.rows.map((row) => ({
    id: String(row.id),
    imageSlug: String(row.slug),
    imageName: String(row.name),
    version: String(row.version),
  }));
}
