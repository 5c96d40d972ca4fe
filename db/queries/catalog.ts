// Catalog reads. Pages are keyset-paginated on (sort key, id) so page 20,000 costs what page 1
// costs, and nothing on this path counts the whole table.
import { sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db } from "../client";
import type { Architecture, DataStatus, DiskFormat, ReleaseStatus, Visibility } from "../schema";
import {
  imageInProjectCondition,
  projectScopedCondition,
  visibleImagesCondition,
  visibleVersionCondition,
} from "./access";
import { approvedVersionsSql } from "./release-sql";
import { listVisibleTags } from "./images";
import { imagesContainingPackageCondition } from "./packages";
import type { PackageCondition } from "@/lib/validations/packages";
import type { Viewer } from "./users";

export type CatalogSort = "name" | "updated" | "size" | "usage";
export type SortOrder = "asc" | "desc";
export type CatalogView = "images" | "versions";

export interface CatalogFilters {
  q?: string;
  os?: string;
  arch?: string;
  format?: string;
  tag?: string;
  project?: string;
  /** One image, by slug (the API's versions of an image). */
  image?: string;
  status?: string;
  freshness?: "out_of_date";
  /** Detected by content scans (not typed): distribution id and architecture. */
  distro?: string;
  detectedArch?: string;
  /** A parsed "contains package" condition (lib/validations/packages.ts). */
  containsPackage?: PackageCondition;
}

export interface CatalogQuery extends CatalogFilters {
  viewer: Viewer;
  sort: CatalogSort;
  order: SortOrder;
  cursor?: string;
  limit: number;
}

export interface CatalogImageRow {
  id: string;
  slug: string;
  name: string;
  os: string;
  osVersion: string;
  arch: Architecture;
  visibility: Visibility;
  tags: string[];
  latestVersion: string | null;
  latestVersionId: string | null;
  latestFormat: DiskFormat | null;
  latestVirtualSize: number;
  latestReleaseStatus: ReleaseStatus | null;
  versionCount: number;
  /** Clones and builds that used any of its versions. */
  usageCount: number;
  projectId: string;
  projectSlug: string;
  projectName: string;
  updatedAt: Date;
  /** Named channels pointing into this image (`latest` is implied by the latest version). */
  channels: string[];
}

export interface CatalogVersionRow {
  id: string;
  version: string;
  format: DiskFormat | null;
  virtualSize: number | null;
  fileSize: number | null;
  dataStatus: DataStatus;
  releaseStatus: ReleaseStatus;
  createdAt: Date;
  imageSlug: string;
  imageName: string;
  os: string;
  osVersion: string;
  arch: Architecture;
  projectSlug: string;
}

export interface Page<Row> {
  rows: Row[];
  nextCursor: string | null;
}

export const defaultOrder: Record<CatalogSort, SortOrder> = {
  name: "asc",
  updated: "desc",
  size: "desc",
  usage: "desc",
};

type CursorValue = string | number;

export function encodeCursor(value: CursorValue, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString("base64url");
}

export function decodeCursor(cursor: string): [CursorValue, string] | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [value, id] = parsed as unknown[];
    if ((typeof value !== "string" && typeof value !== "number") || typeof id !== "string") return null;
    if (!/^[0-9a-f-]{36}$/.test(id)) return null;
    return [value, id];
  } catch {
    return null;
  }
}

// PostgreSQL can't estimate prefix matches (it assumes 2% of rows), so for a sorted page it walks
// the sort index and filters, which is quick for common terms and slow for rare ones. A probe
// bounded at FEW_HITS through the GIN index tells them apart: few hits are collected first and
// sorted, many are left to the index walk.
const FEW_HITS = 2000;

interface SearchPlan {
  cte: SQL;
  condition: SQL | null;
}

async function planSearch(q: string | undefined, imageAlias: string): Promise<SearchPlan> {
  const alias = sql.raw(imageAlias);
  if (!q) return { cte: sql``, condition: null };
  // hangar_search_query tokenizes q exactly as the stored document was (migration 0007) and is
  // NULL for a query without a word, which matches nothing.
  const tsquery = sql`hangar_search_query(${q})`;
  const probe = await db().execute<{ hits: number }>(
    sql`select count(*)::int as hits from (select 1 from images where search @@ ${tsquery} limit ${FEW_HITS + 1}) s`,
  );
  if ((probe.rows[0]?.hits ?? 0) > FEW_HITS) return { cte: sql``, condition: sql`${alias}.search @@ ${tsquery}` };
  return {
    cte: sql`with hits as materialized (select id from images where search @@ ${tsquery})`,
    condition: sql`${alias}.id in (select id from hits)`,
  };
}

/**
 * Freshness, derived: a version built or cloned from a parent that is no longer the newest approved
 * version of the parent's image is out of date. `versionId` is the version's id column.
 */
export function outOfDateCondition(versionId: SQL): SQL {
  return sql`exists (
    select 1 from image_versions fv
    join image_versions fp on fp.id = fv.parent_version_id
    join lateral (${approvedVersionsSql(sql`fp.image_id`, { excludingId: sql`fv.id` })}) fn on (fn.created_at, fn.id) > (fp.created_at, fp.id)
    where fv.id = ${versionId})`;
}

function imageFilterConditions(filters: CatalogFilters, imageAlias: string, search: SearchPlan): SQL[] {
  const alias = sql.raw(imageAlias);
  const conditions: SQL[] = [];
  if (search.condition) conditions.push(search.condition);
  if (filters.os) conditions.push(sql`${alias}.os = ${filters.os}`);
  if (filters.arch) conditions.push(sql`${alias}.arch = ${filters.arch}`);
  if (filters.tag) conditions.push(sql`${alias}.tags @> array[${filters.tag}]::text[]`);
  if (filters.project)
    conditions.push(sql`${alias}.project_id = (select id from projects where slug = ${filters.project})`);
  if (filters.image) conditions.push(sql`${alias}.slug = ${filters.image}`);
  return conditions;
}

function keysetCondition(
  key: SQL,
  order: SortOrder,
  cursor: string | undefined,
  idColumn: SQL,
  cast: "text" | "number" | "timestamp",
): SQL | null {
  if (!cursor) return null;
  const decoded = decodeCursor(cursor);
  if (!decoded) throw new HangarError("invalid", "That page link is broken or out of date; go back to the first page.");
  const [rawValue, id] = decoded;
  const value =
    cast === "timestamp"
      ? sql`${String(rawValue)}::timestamptz`
      : cast === "number"
        ? sql`${Number(rawValue)}::bigint`
        : sql`${String(rawValue)}`;
  return order === "asc"
    ? sql`(${key}, ${idColumn}) > (${value}, ${id}::uuid)`
    : sql`(${key}, ${idColumn}) < (${value}, ${id}::uuid)`;
}

function orderBy(key: SQL, idColumn: SQL, order: SortOrder): SQL {
  const direction = sql.raw(order === "asc" ? "asc" : "desc");
  return sql`order by ${key} ${direction}, ${idColumn} ${direction}`;
}

// Timestamps travel in the cursor as PostgreSQL's own text form: a JS Date would drop the
// microseconds and make the next page skip or repeat rows.
function cursorValue(
  sort: CatalogSort,
  row: { name?: string; timestampText: string; size?: number | null; usage?: number },
): CursorValue {
  if (sort === "name") return row.name ?? "";
  if (sort === "size") return row.size ?? 0;
  if (sort === "usage") return row.usage ?? 0;
  return row.timestampText;
}

const whereAll = (conditions: SQL[]) => (conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``);

/** A succeeded content scan of the version `version` (an alias) detected this distro and arch. */
function scanMatches(filters: CatalogFilters, version: string): SQL | null {
  const parts: SQL[] = [];
  if (filters.distro) parts.push(sql`ds.distro = ${filters.distro}`);
  if (filters.detectedArch) parts.push(sql`ds.arch = ${filters.detectedArch}`);
  if (!parts.length) return null;
  return sql`exists (select 1 from content_scans ds where ds.sha256 = ${sql.raw(version)}.sha256 and ds.status = 'succeeded' and ${sql.join(parts, sql` and `)})`;
}

/** Detected facts and contained packages, for images (alias `i`): some version the viewer sees matches. */
function imageContentConditions(query: CatalogQuery): SQL[] {
  const conditions: SQL[] = [];
  const scan = scanMatches(query, "dv");
  if (scan)
    conditions.push(
      sql`exists (select 1 from image_versions dv where dv.image_id = i.id and ${visibleVersionCondition(query.viewer, { image: "i", version: "dv" })} and ${scan})`,
    );
  if (query.containsPackage) conditions.push(imagesContainingPackageCondition(query.viewer, query.containsPackage));
  return conditions;
}

export async function listCatalogImages(query: CatalogQuery): Promise<Page<CatalogImageRow>> {
  const sortKeys: Record<CatalogSort, { key: SQL; cast: "text" | "number" | "timestamp" }> = {
    name: { key: sql`i.name`, cast: "text" },
    updated: { key: sql`i.updated_at`, cast: "timestamp" },
    size: { key: sql`i.latest_virtual_size`, cast: "number" },
    usage: { key: sql`i.usage_count`, cast: "number" },
  };
  const { key, cast } = sortKeys[query.sort];
  const search = await planSearch(query.q, "i");
  const conditions = [visibleImagesCondition(query.viewer), ...imageFilterConditions(query, "i", search)];
  // People outside an image's project see its newest released version, never a draft.
  const member = imageInProjectCondition(query.viewer, "view", "i");
  const seen = (column: string) =>
    query.viewer.role === "admin"
      ? sql.raw(`i.latest_${column}`)
      : sql`(case when ${member} then ${sql.raw(`i.latest_${column}`)} else ${sql.raw(`i.released_${column}`)} end)`;
  if (query.format) conditions.push(sql`${seen("format")} = ${query.format}`);
  if (query.status) conditions.push(sql`${seen("release_status")} = ${query.status}`);
  if (query.freshness === "out_of_date") conditions.push(outOfDateCondition(seen("version_id")));
  conditions.push(...imageContentConditions(query));
  const keyset = keysetCondition(key, query.order, query.cursor, sql`i.id`, cast);
  if (keyset) conditions.push(keyset);

  const result = await db().execute<Record<string, unknown>>(sql`
    ${search.cte}
    select i.id, i.slug, i.name, i.os, i.os_version, i.arch, i.visibility, i.tags, ${seen("version")} as latest_version, ${seen("version_id")} as latest_version_id,
           ${seen("format")} as latest_format, ${seen("virtual_size")} as latest_virtual_size, ${seen("release_status")} as latest_release_status,
           (case when ${member} then i.version_count else i.released_count end) as version_count, i.usage_count, i.updated_at,
           i.latest_virtual_size as cursor_size,
           i.updated_at::text as cursor_ts,
           p.id as project_id, p.slug as project_slug, p.name as project_name
    from images i join projects p on p.id = i.project_id
    ${whereAll(conditions)}
    ${orderBy(key, sql`i.id`, query.order)}
    limit ${query.limit + 1}`);
  const rows: CatalogImageRow[] = result.rows.slice(0, query.limit).map((row) => ({
    id: String(row.id),
    slug: String(row.slug),
    name: String(row.name),
    os: String(row.os),
    osVersion: String(row.os_version),
    arch: row.arch as Architecture,
    visibility: row.visibility as Visibility,
    tags: row.tags as string[],
    latestVersion: (row.latest_version as string | null) ?? null,
    latestVersionId: (row.latest_version_id as string | null) ?? null,
    latestFormat: (row.latest_format as DiskFormat | null) ?? null,
    latestVirtualSize: Number(row.latest_virtual_size),
    latestReleaseStatus: (row.latest_release_status as ReleaseStatus | null) ?? null,
    versionCount: Number(row.version_count),
    usageCount: Number(row.usage_count),
    projectId: String(row.project_id),
    projectSlug: String(row.project_slug),
    projectName: String(row.project_name),
    updatedAt: new Date(row.updated_at as string),
    channels: [],
  }));
  // Channel badges for this page only: one small indexed lookup, never part of the sorted scan.
  if (rows.length) {
    const named = await db().execute<{ image_id: string; names: string[] }>(
      sql`select image_id, array_agg(name order by name) as names from channels where image_id in (${sql.join(
        rows.map((row) => sql`${row.id}::uuid`),
        sql`, `,
      )}) group by image_id`,
    );
    const byImage = new Map(named.rows.map((row) => [row.image_id, row.names]));
    for (const row of rows) row.channels = byImage.get(row.id) ?? [];
  }
  const last = rows.at(-1);
  const lastRaw = result.rows[query.limit - 1];
  const nextCursor =
    result.rows.length > query.limit && last && lastRaw
      ? encodeCursor(
          cursorValue(query.sort, {
            name: last.name,
            timestampText: String(lastRaw.cursor_ts),
            size: Number(lastRaw.cursor_size),
            usage: last.usageCount,
          }),
          last.id,
        )
      : null;
  return { rows, nextCursor };
}

export async function listCatalogVersions(query: CatalogQuery): Promise<Page<CatalogVersionRow>> {
  // Versions have no name of their own; "name" orders by creation like "updated" does, and so does
  // "usage", which is counted per image (a per-version count would need a scan at this scale).
  const sortKeys: Record<CatalogSort, { key: SQL; cast: "number" | "timestamp" }> = {
    usage: { key: sql`v.created_at`, cast: "timestamp" },
    name: { key: sql`v.created_at`, cast: "timestamp" },
    updated: { key: sql`v.created_at`, cast: "timestamp" },
    size: { key: sql`coalesce(v.virtual_size, 0)`, cast: "number" },
  };
  const { key, cast } = sortKeys[query.sort];
  const search = await planSearch(query.q, "i");
  const conditions = [
    visibleVersionCondition(query.viewer, { image: "i", version: "v" }),
    ...imageFilterConditions(query, "i", search),
  ];
  if (query.format) conditions.push(sql`v.format = ${query.format}`);
  if (query.status) conditions.push(sql`v.release_status = ${query.status}`);
  if (query.freshness === "out_of_date") conditions.push(outOfDateCondition(sql`v.id`));
  const scan = scanMatches(query, "v");
  if (scan) conditions.push(scan);
  // Versions of images holding the package (the package condition is per image).
  if (query.containsPackage) conditions.push(imagesContainingPackageCondition(query.viewer, query.containsPackage));
  const keyset = keysetCondition(key, query.order, query.cursor, sql`v.id`, cast);
  if (keyset) conditions.push(keyset);

  const result = await db().execute<Record<string, unknown>>(sql`
    ${search.cte}
    select v.id, v.version, v.format, v.virtual_size, v.file_size, v.data_status, v.release_status, v.created_at,
           v.created_at::text as cursor_ts,
           i.slug as image_slug, i.name as image_name, i.os, i.os_version, i.arch, p.slug as project_slug
    from image_versions v
    join images i on i.id = v.image_id
    join projects p on p.id = i.project_id
    ${whereAll(conditions)}
    ${orderBy(key, sql`v.id`, query.order)}
    limit ${query.limit + 1}`);
  const rows: CatalogVersionRow[] = result.rows.slice(0, query.limit).map((row) => ({
    id: String(row.id),
    version: String(row.version),
    format: (row.format as DiskFormat | null) ?? null,
    virtualSize: row.virtual_size === null ? null : Number(row.virtual_size),
    fileSize: row.file_size === null ? null : Number(row.file_size),
    dataStatus: row.data_status as DataStatus,
    releaseStatus: row.release_status as ReleaseStatus,
    createdAt: new Date(row.created_at as string),
    imageSlug: String(row.image_slug),
    imageName: String(row.image_name),
    os: String(row.os),
    osVersion: String(row.os_version),
    arch: row.arch as Architecture,
    projectSlug: String(row.project_slug),
  }));
  const last = rows.at(-1);
  const lastRaw = result.rows[query.limit - 1];
  const versionSort = query.sort === "size" ? "size" : "updated";
  const nextCursor =
    result.rows.length > query.limit && last && lastRaw
      ? encodeCursor(
          cursorValue(versionSort, { timestampText: String(lastRaw.cursor_ts), size: last.virtualSize }),
          last.id,
        )
      : null;
  return { rows, nextCursor };
}

export interface CatalogFacets {
  oses: string[];
  /** Distributions and architectures content scans detected. */
  detectedDistros: string[];
  detectedArches: string[];
  tags: string[];
  projects: { slug: string; name: string }[];
}

// Distinct OS values by a loose index scan over images_os_idx: cheap however many images exist.
export async function getCatalogFacets({ viewer }: { viewer: Viewer }): Promise<CatalogFacets> {
  const [oses, tagRows, projectRows, distros, arches] = await Promise.all([
    db().execute<{ os: string }>(sql`
      with recursive t as (
        (select os from images order by os limit 1)
        union all
        select (select os from images where os > t.os order by os limit 1) from t where t.os is not null
      ) select os from t where os is not null limit 200`),
    listVisibleTags({ viewer, limit: 500 }),
    db().execute<{ slug: string; name: string }>(sql`
      select slug, name from projects p
      where ${projectScopedCondition(viewer, sql`p.id`)}
         or exists (select 1 from images i where i.project_id = p.id and i.visibility <> 'private' and ${visibleImagesCondition(viewer, "i")})
      order by name limit 500`),
    // Loose index scans over content_scans_distro_idx, like the OS list above.
    db().execute<{ distro: string }>(sql`
      with recursive t as (
        (select distro from content_scans where distro is not null order by distro limit 1)
        union all
        select (select distro from content_scans where distro > t.distro order by distro limit 1) from t where t.distro is not null
      ) select distro from t where distro is not null limit 100`),
    db().execute<{ arch: string }>(sql`
      select distinct arch from content_scans where status = 'succeeded' and arch is not null order by arch limit 50`),
  ]);
  return {
    oses: oses.rows.map((row) => row.os),
    tags: tagRows,
    projects: projectRows.rows,
    detectedDistros: distros.rows.map((row) => row.distro),
    detectedArches: arches.rows.map((row) => row.arch),
  };
}
