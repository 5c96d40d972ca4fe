// Installed packages of scanned blobs: storing a scan's list, searching the catalog for a package
// (optionally under a version condition), the package diff of two versions, and what an SBOM is
// made of. A version condition is a range over the (name, scheme, sort_key) index, with the bound
// keyed once per ordering (dpkg's for deb, apk and other; rpm's for rpm): one indexed query.
import { eq, sql, type SQL } from "drizzle-orm";
import type { PackageScheme } from "@/db/enums";
import { keyRange, storedSortKey, VersionSyntaxError, type KeyRange } from "@/lib/content/package-versions";
import type { ContentFilesystem, ContentPackage } from "@/lib/content/types";
import { HangarError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import type { PackageCondition } from "@/lib/validations/packages";
import { db, type Database } from "../client";
import { contentPackages, contentScans, type ContentJobStatus } from "../schema";
import { visibleVersionCondition } from "./access";
import type { Viewer } from "./users";

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Schemes keyed with dpkg's rules (see lib/content/package-versions.ts) and with rpm's. */
const keyFamilies: { schemes: PackageScheme[]; keyedAs: PackageScheme }[] = [
  { schemes: ["deb", "apk", "other"], keyedAs: "deb" },
  { schemes: ["rpm"], keyedAs: "rpm" },
];

export function packageRowsFor(
  scanSha256: string,
  scheme: PackageScheme,
  packages: ContentPackage[],
): (typeof contentPackages.$inferInsert)[] {
  return packages.map((pkg) => ({
    scanSha256,
    name: pkg.name,
    version: pkg.version,
    epoch: pkg.epoch,
    upstreamVersion: pkg.upstreamVersion,
    release: pkg.release,
    arch: pkg.arch,
    scheme,
    sortKey: storedSortKey(scheme, pkg),
  }));
}

const INSERT_CHUNK = 2000;

/** Replaces a scan's package list (the scan row must exist) and its count, in one transaction. */
export async function replaceScanPackages({
  tx,
  scanSha256,
  scheme,
  packages,
}: {
  tx?: Tx;
  scanSha256: string;
  scheme: PackageScheme;
  packages: ContentPackage[];
}): Promise<void> {
  const write = async (t: Tx) => {
    await t.delete(contentPackages).where(eq(contentPackages.scanSha256, scanSha256));
    const rows = packageRowsFor(scanSha256, scheme, packages);
    for (let start = 0; start < rows.length; start += INSERT_CHUNK)
      await t.insert(contentPackages).values(rows.slice(start, start + INSERT_CHUNK));
    await t.update(contentScans).set({ packageCount: rows.length }).where(eq(contentScans.sha256, scanSha256));
  };
  if (tx) await write(tx);
  else await db().transaction(write);
}

function rangeSql(column: SQL, range: KeyRange): SQL[] {
  const parts: SQL[] = [];
  if (range.lower)
    parts.push(
      range.lower.inclusive ? sql`${column} >= ${range.lower.key}::bytea` : sql`${column} > ${range.lower.key}::bytea`,
    );
  if (range.upper)
    parts.push(
      range.upper.inclusive ? sql`${column} <= ${range.upper.key}::bytea` : sql`${column} < ${range.upper.key}::bytea`,
    );
  return parts;
}

/** Each scheme's sort_key range for the condition, keyed under its ordering; null for a bare name. */
function schemeRanges(condition: PackageCondition): { scheme: PackageScheme; range: KeyRange }[] | null {
  if (!condition.op || !condition.version) return null;
  const { op, version } = condition;
  try {
    return keyFamilies.flatMap(({ schemes, keyedAs }) => {
      const range = keyRange(keyedAs, op, version);
      return schemes.map((scheme) => ({ scheme, range }));
    });
  } catch (error) {
    if (error instanceof VersionSyntaxError)
      throw new HangarError("invalid", `The version "${version}" is not valid: ${error.message}`);
    throw error;
  }
}

/** `<alias>.name = … and (the version condition under each scheme's ordering)`, for a row already found. */
function packageMatchSql(condition: PackageCondition, alias: string): SQL {
  const p = sql.raw(alias);
  const ranges = schemeRanges(condition);
  if (!ranges) return sql`${p}.name = ${condition.name}`;
  const branches = ranges.map(
    ({ scheme, range }) =>
      sql`(${sql.join([sql`${p}.scheme = ${scheme}`, ...rangeSql(sql`${p}.sort_key`, range)], sql` and `)})`,
  );
  return sql`${p}.name = ${condition.name} and (${sql.join(branches, sql` or `)})`;
}

/**
 * The package rows matching a condition, as one index range scan of (name, scheme, sort_key) per
 * scheme (union all): an OR of ranges would be read as "every row of that name, then filtered".
 */
function packageHitsSql(condition: PackageCondition): SQL {
  const columns = sql`id, scan_sha256, name, version, arch, scheme`;
  const ranges = schemeRanges(condition);
  if (!ranges) return sql`select ${columns} from content_packages where name = ${condition.name}`;
  return sql.join(
    ranges.map(
      ({ scheme, range }) =>
        sql`(select ${columns} from content_packages where ${sql.join(
          [sql`name = ${condition.name}`, sql`scheme = ${scheme}`, ...rangeSql(sql`sort_key`, range)],
          sql` and `,
        )})`,
    ),
    sql` union all `,
  );
}

/**
 * Images with a version the viewer may see (ready, its scan finished) that contains a package
 * matching the condition: a filter for the catalog's images query, whose images alias is `imageAlias`.
 */
export function imagesContainingPackageCondition(viewer: Viewer, condition: PackageCondition, imageAlias = "i"): SQL {
  return sql`exists (
    select 1 from image_versions cv
    join content_scans cs on cs.sha256 = cv.sha256 and cs.status = 'succeeded'
    join content_packages cp on cp.scan_sha256 = cv.sha256
    where cv.image_id = ${sql.raw(imageAlias)}.id and cv.data_status = 'ready'
      and ${visibleVersionCondition(viewer, { image: imageAlias, version: "cv" })}
      and ${packageMatchSql(condition, "cp")})`;
}

export interface PackageSearchRow {
  versionId: string;
  version: string;
  imageId: string;
  imageSlug: string;
  imageName: string;
  projectSlug: string;
  packageName: string;
  packageVersion: string;
  arch: string;
  scheme: PackageScheme;
}

interface SearchCursor {
  slug: string;
  createdAt: string;
  versionId: string;
  packageId: number;
}

function encodeSearchCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeSearchCursor(text: string): SearchCursor {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<SearchCursor>;
    if (
      typeof value.slug === "string" &&
      typeof value.createdAt === "string" &&
      !Number.isNaN(Date.parse(value.createdAt)) &&
      typeof value.versionId === "string" &&
      isUuid(value.versionId) &&
      Number.isSafeInteger(value.packageId)
    )
      return value as SearchCursor;
  } catch {
    // falls through to the refusal
  }
  throw new HangarError("invalid", "That page link is broken or out of date; go back to the first page.");
}

const FEW_HITS = 1000;

/**
 * Every ready version the viewer may see whose finished scan contains a package matching the
 * condition, by image (slug) and newest version first; one row per matching package (a multi-arch
 * or multi-kernel system may list a name more than once).
 *
 * Like the catalog's text search, a bounded count through the index tells few hits from many:
 * few are collected first and joined (walking the catalog in page order and probing each version
 * would cost the whole catalog when few or none match); many are found by walking versions in
 * page order and probing each one's packages, which fills a page after a few dozen versions
 * instead of joining and sorting thousands of hits.
 */
export async function searchPackageVersions({
  viewer,
  condition,
  cursor,
  limit,
}: {
  viewer: Viewer;
  condition: PackageCondition;
  cursor?: string;
  limit: number;
}): Promise<{ rows: PackageSearchRow[]; nextCursor: string | null }> {
  const after = cursor ? decodeSearchCursor(cursor) : null;
  const keyset = after
    ? sql`and (i.slug > ${after.slug} or (i.slug = ${after.slug} and (v.created_at, v.id, cp.id) < (${after.createdAt}::timestamptz, ${after.versionId}::uuid, ${after.packageId}::bigint)))`
    : sql``;
  // Both statements are a few milliseconds of index work; parallel workers would only add their
  // start-up (tens of milliseconds, more on a busy machine) on top.
  const result = await db().transaction(async (tx) => {
    await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
    // How many package rows match, counted no further than FEW_HITS through the index.
    const probe = await tx.execute<{ hits: number }>(
      sql`select count(*)::int as hits from (${packageHitsSql(condition)} limit ${FEW_HITS + 1}) h`,
    );
    const many = (probe.rows[0]?.hits ?? 0) > FEW_HITS;
    const columns = sql`v.id as version_id, v.version, v.created_at::text as created_at, i.id as image_id, i.slug as image_slug,
      i.name as image_name, p.slug as project_slug, cp.id as package_id, cp.name as package_name,
      cp.version as package_version, cp.arch, cp.scheme`;
    return tx.execute<{
      version_id: string;
      version: string;
      created_at: string;
      image_id: string;
      image_slug: string;
      image_name: string;
      project_slug: string;
      package_id: string;
      package_name: string;
      package_version: string;
      arch: string;
      scheme: PackageScheme;
    }>(sql`
    ${
      many
        ? sql`select ${columns}
      from images i
      join projects p on p.id = i.project_id
      join image_versions v on v.image_id = i.id and v.data_status = 'ready'
      join content_scans s on s.sha256 = v.sha256 and s.status = 'succeeded'
      join content_packages cp on cp.scan_sha256 = v.sha256 and ${packageMatchSql(condition, "cp")}`
        : sql`with hits as materialized (${packageHitsSql(condition)})
      select ${columns}
      from hits cp
      join content_scans s on s.sha256 = cp.scan_sha256 and s.status = 'succeeded'
      join image_versions v on v.sha256 = cp.scan_sha256 and v.data_status = 'ready'
      join images i on i.id = v.image_id
      join projects p on p.id = i.project_id`
    }
    where ${visibleVersionCondition(viewer, { image: "i", version: "v" })}
      ${keyset}
    order by i.slug asc, v.created_at desc, v.id desc, cp.id desc
    limit ${limit + 1}`);
  });
  const page = result.rows.slice(0, limit);
  const rows = page.map((row) => ({
    versionId: row.version_id,
    version: row.version,
    imageId: row.image_id,
    imageSlug: row.image_slug,
    imageName: row.image_name,
    projectSlug: row.project_slug,
    packageName: row.package_name,
    packageVersion: row.package_version,
    arch: row.arch,
    scheme: row.scheme,
  }));
  const last = page.at(-1);
  const nextCursor =
    result.rows.length > limit && last
      ? encodeSearchCursor({
          slug: last.image_slug,
          createdAt: last.created_at,
          versionId: last.version_id,
          packageId: Number(last.package_id),
        })
      : null;
  return { rows, nextCursor };
}

export interface PackageChange {
  name: string;
  arch: string;
  from: string;
  to: string;
}

export interface PackageDiff {
  added: ContentPackage[];
  removed: ContentPackage[];
  upgraded: PackageChange[];
  downgraded: PackageChange[];
  unchanged: number;
}

type StoredPackage = ContentPackage & { scheme: PackageScheme; sortKey: Buffer };

const byNameArch = (a: { name: string; arch: string }, b: { name: string; arch: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0;

const plain = ({ name, version, epoch, upstreamVersion, release, arch }: StoredPackage): ContentPackage => ({
  name,
  version,
  epoch,
  upstreamVersion,
  release,
  arch,
});

/**
 * The package diff of two scanned blobs, from their stored lists, packages matched by name and
 * architecture and ordered by their stored keys (the manager's order). A name+arch installed in
 * several versions at once (kernels) is compared as a set: versions on one side only are added or
 * removed. Null when either blob has no finished scan.
 */
export async function diffPackages({
  fromSha256,
  toSha256,
}: {
  fromSha256: string;
  toSha256: string;
}): Promise<PackageDiff | null> {
  // One round trip: each finished scan once (a scan with no packages still says it finished).
  const result = await db().execute<{
    scan: string;
    name: string | null;
    version: string;
    epoch: number;
    upstream_version: string;
    release: string;
    arch: string;
    scheme: PackageScheme;
    sort_key: Buffer;
  }>(sql`
    select s.sha256 as scan, p.name, p.version, p.epoch, p.upstream_version, p.release, p.arch, p.scheme, p.sort_key
    from content_scans s left join content_packages p on p.scan_sha256 = s.sha256
    where s.sha256 in (${fromSha256}, ${toSha256}) and s.status = 'succeeded'`);
  const finished = new Set(result.rows.map((row) => row.scan));
  if (!finished.has(fromSha256) || !finished.has(toSha256)) return null;
  const group = (sha256: string) => {
    const groups = new Map<string, StoredPackage[]>();
    for (const row of result.rows) {
      if (row.scan !== sha256 || row.name === null) continue;
      const key = `${row.name}\u0000${row.arch}`;
      const list = groups.get(key) ?? [];
      list.push({
        name: row.name,
        version: row.version,
        epoch: row.epoch,
        upstreamVersion: row.upstream_version,
        release: row.release,
        arch: row.arch,
        scheme: row.scheme,
        sortKey: row.sort_key,
      });
      groups.set(key, list);
    }
    return groups;
  };
  const before = group(fromSha256);
  const after = group(toSha256);
  const diff: PackageDiff = { added: [], removed: [], upgraded: [], downgraded: [], unchanged: 0 };
  const same = (a: StoredPackage, b: StoredPackage) => a.scheme === b.scheme && a.sortKey.equals(b.sortKey);
  for (const [key, olds] of before) {
    const news = after.get(key);
    if (!news) {
      diff.removed.push(...olds.map(plain));
      continue;
    }
    if (olds.length === 1 && news.length === 1) {
      const [old, next] = [olds[0]!, news[0]!];
      if (same(old, next)) diff.unchanged += 1;
      else {
        const change = { name: old.name, arch: old.arch, from: old.version, to: next.version };
        // Keys of different schemes (a distribution change) are not comparable; the text decides.
        const order =
          old.scheme === next.scheme
            ? Buffer.compare(old.sortKey, next.sortKey)
            : old.version.localeCompare(next.version);
        (order < 0 ? diff.upgraded : diff.downgraded).push(change);
      }
      continue;
    }
    for (const old of olds) {
      if (news.some((next) => same(old, next))) diff.unchanged += 1;
      else diff.removed.push(plain(old));
    }
    for (const next of news) if (!olds.some((old) => same(old, next))) diff.added.push(plain(next));
  }
  for (const [key, news] of after) if (!before.has(key)) diff.added.push(...news.map(plain));
  diff.added.sort(byNameArch);
  diff.removed.sort(byNameArch);
  diff.upgraded.sort(byNameArch);
  diff.downgraded.sort(byNameArch);
  return diff;
}

export interface SbomScan {
  status: ContentJobStatus;
  failureReason: string | null;
  osFound: boolean | null;
  osType: string | null;
  distro: string | null;
  productName: string | null;
  osVersion: string | null;
  arch: string | null;
  packageFormat: string | null;
  filesystems: ContentFilesystem[];
  finishedAt: Date | null;
}

export interface SbomSource {
  versionId: string;
  version: string;
  imageSlug: string;
  imageName: string;
  ready: boolean;
  sha256: string | null;
  scan: SbomScan | null;
  packages: (ContentPackage & { scheme: PackageScheme })[];
}

/**
 * What an SBOM of a version is made of, or null when the version doesn't exist or the viewer may
 * not see it. Packages are read only once the scan finished.
 */
export async function getVersionSbomSource({
  viewer,
  versionId,
}: {
  viewer: Viewer;
  versionId: string;
}): Promise<SbomSource | null> {
  if (!isUuid(versionId)) return null;
  const result = await db().execute<{
    id: string;
    version: string;
    image_slug: string;
    image_name: string;
    data_status: string;
    sha256: string | null;
    status: ContentJobStatus | null;
    failure_reason: string | null;
    os_found: boolean | null;
    os_type: string | null;
    distro: string | null;
    product_name: string | null;
    os_version: string | null;
    arch: string | null;
    package_format: string | null;
    filesystems: ContentFilesystem[] | null;
    finished_at: string | null;
  }>(sql`
    select v.id, v.version, i.slug as image_slug, i.name as image_name, v.data_status, v.sha256,
           s.status, s.failure_reason, s.os_found, s.os_type, s.distro, s.product_name, s.os_version, s.arch,
           s.package_format, s.filesystems, s.finished_at::text as finished_at
    from image_versions v
    join images i on i.id = v.image_id
    left join content_scans s on s.sha256 = v.sha256
    where v.id = ${versionId} and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}`);
  const row = result.rows[0];
  if (!row) return null;
  const scan: SbomScan | null = row.status
    ? {
        status: row.status,
        failureReason: row.failure_reason,
        osFound: row.os_found,
        osType: row.os_type,
        distro: row.distro,
        productName: row.product_name,
        osVersion: row.os_version,
        arch: row.arch,
        packageFormat: row.package_format,
        filesystems: row.filesystems ?? [],
        finishedAt: row.finished_at ? new Date(row.finished_at) : null,
      }
    : null;
  let packages: SbomSource["packages"] = [];
  if (row.sha256 && scan?.status === "succeeded") {
    packages = await db()
      .select({
        name: contentPackages.name,
        version: contentPackages.version,
        epoch: contentPackages.epoch,
        upstreamVersion: contentPackages.upstreamVersion,
        release: contentPackages.release,
        arch: contentPackages.arch,
        scheme: contentPackages.scheme,
      })
      .from(contentPackages)
      .where(eq(contentPackages.scanSha256, row.sha256))
      .orderBy(contentPackages.name, contentPackages.arch, contentPackages.sortKey);
  }
  return {
    versionId: row.id,
    version: row.version,
    imageSlug: row.image_slug,
    imageName: row.image_name,
    ready: row.data_status === "ready",
    sha256: row.sha256,
    scan,
    packages,
  };
}
