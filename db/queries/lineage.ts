// Lineage: a version's ancestry up to its root and every descendant, as one graph, with each
// node's release state and derived freshness. Versions the viewer can't see stay in the chain as
// anonymous nodes so the shape is honest without revealing names.
import { sql } from "drizzle-orm";
import type { ReleaseStatus } from "@/db/enums";
import { db } from "../client";
import { visibleVersionCondition } from "./access";
import { approvedVersionsSql } from "./release-sql";
import { outOfDateCondition } from "./catalog";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";

export interface LineageNode {
  id: string;
  parentId: string | null;
  imageSlug: string | null;
  imageName: string | null;
  version: string | null;
  releaseStatus: ReleaseStatus | null;
  source: string | null;
  outOfDate: boolean;
  revokedAncestor: boolean;
  current: boolean;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
  /** Ids from the root down to the version asked about. */
  ancestry: string[];
}

const MAX_DEPTH = 64;
const MAX_NODES = 500;

export async function getLineage({
  viewer,
  versionId,
}: {
  viewer: Viewer;
  versionId: string;
}): Promise<Lineage | null> {
  if (!isUuid(versionId)) return null;
  const result = await db().execute<Record<string, unknown>>(sql`
    with recursive up as (
      select id, parent_version_id, 0 as depth from image_versions where id = ${versionId}
      union all
      select p.id, p.parent_version_id, up.depth + 1 from image_versions p join up on p.id = up.parent_version_id where up.depth < ${MAX_DEPTH}
    ), down as (
      select id, parent_version_id, 0 as depth from image_versions where id = ${versionId}
      union all
      select c.id, c.parent_version_id, down.depth + 1 from image_versions c join down on c.parent_version_id = down.id where down.depth < ${MAX_DEPTH}
    ), ids as (
      select id, -depth as rank from up union select id, depth as rank from down
    )
    select v.id, v.parent_version_id, v.version, v.release_status, v.source, i.slug as image_slug, i.name as image_name,
           ${visibleVersionCondition(viewer, { image: "i", version: "v" })} as visible,
           ${outOfDateCondition(sql`v.id`)} as out_of_date,
           v.revoked_ancestor_id is not null as revoked_ancestor,
           min(ids.rank) over (partition by v.id) as rank
    from ids join image_versions v on v.id = ids.id join images i on i.id = v.image_id
    order by rank, v.created_at
    limit ${MAX_NODES}`);
  if (result.rows.length === 0) return null;
  const seen = new Set<string>();
  const nodes: LineageNode[] = [];
  for (const row of result.rows) {
    const id = String(row.id);
    if (seen.has(id)) continue;
    seen.add(id);
    const visible = Boolean(row.visible);
    nodes.push({
      id,
      parentId: (row.parent_version_id as string | null) ?? null,
      imageSlug: visible ? String(row.image_slug) : null,
      imageName: visible ? String(row.image_name) : null,
      version: visible ? String(row.version) : null,
      releaseStatus: visible ? (row.release_status as ReleaseStatus) : null,
      source: visible ? String(row.source) : null,
      outOfDate: Boolean(row.out_of_date),
      revokedAncestor: Boolean(row.revoked_ancestor),
      current: id === versionId,
    });
  }
  const current = nodes.find((node) => node.current);
  // The version asked about must itself be visible to the viewer.
  if (!current || current.imageSlug === null) return null;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const ancestry: string[] = [];
  for (let node: LineageNode | undefined = current; node; node = node.parentId ? byId.get(node.parentId) : undefined)
    ancestry.unshift(node.id);
  const edges = nodes
    .filter((node) => node.parentId && byId.has(node.parentId))
    .map((node) => ({ from: node.parentId!, to: node.id }));
  return { nodes, edges, ancestry };
}

/** For an out-of-date version: the newest approved version of its parent's image, or null. */
export async function getNewerBase({
  versionId,
}: {
  versionId: string;
}): Promise<{ imageSlug: string; version: string; parentVersion: string } | null> {
  const result = await db().execute<{ image_slug: string; version: string; parent_version: string }>(sql`
    select i.slug as image_slug, n.version, p.version as parent_version
    from image_versions v
    join image_versions p on p.id = v.parent_version_id
    join images i on i.id = p.image_id
    join lateral (${approvedVersionsSql(sql`p.image_id`)}) n on (n.created_at, n.id) > (p.created_at, p.id) and n.id <> v.id
    where v.id = ${versionId}`);
  const row = result.rows[0];
  return row ? { imageSlug: row.image_slug, version: row.version, parentVersion: row.parent_version } : null;
}

/** The newer base for an image's latest version, if that version is out of date. */
export async function getNewerBaseForImage({ imageId }: { imageId: string }) {
  const result = await db().execute<{ latest_version_id: string | null; version: string | null }>(
    sql`select i.latest_version_id, v.version from images i left join image_versions v on v.id = i.latest_version_id where i.id = ${imageId}`,
  );
  const latest = result.rows[0];
  if (!latest?.latest_version_id) return null;
  const newer = await getNewerBase({ versionId: latest.latest_version_id });
  return newer ? { ...newer, latestVersion: latest.version! } : null;
}
