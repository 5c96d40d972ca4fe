// TEMPORARY: replaced by the package-search branch at merge
// Stand-ins with the real module's signatures so the content pages compile and run: the name is
// matched, the version condition is ignored here (the real module compares with dpkg/rpm rules).
import { sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import type { PackageCondition } from "@/lib/validations/packages";
import { db } from "../client";
import { visibleVersionCondition } from "./access";
import type { Viewer } from "./users";

export { parsePackageCondition } from "@/lib/validations/packages";

/** Images (alias `i`) with a version the viewer may see whose scan lists the package. */
export function imagesContainingPackageCondition(viewer: Viewer, condition: PackageCondition): SQL {
  return sql`exists (select 1 from image_versions pkv join content_packages pkp on pkp.scan_sha256 = pkv.sha256
    where pkv.image_id = i.id and pkp.name = ${condition.name} and ${visibleVersionCondition(viewer, { image: "i", version: "pkv" })})`;
}

export interface PackageOccurrence {
  imageSlug: string;
  imageName: string;
  versionId: string;
  version: string;
  packageVersion: string;
  arch: string;
}

function encode(values: [string, string, number]): string {
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

function decode(cursor: string): [string, string, number] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(parsed) &&
      typeof parsed[0] === "string" &&
      typeof parsed[1] === "string" &&
      /^[0-9a-f-]{36}$/.test(parsed[1]) &&
      typeof parsed[2] === "number"
    )
      return [parsed[0], parsed[1], parsed[2]];
  } catch {
    // falls through
  }
  throw new HangarError("invalid", "That page link is broken or out of date; go back to the first page.");
}

/** Where a package occurs among the versions the viewer may see, keyset-paged. */
export async function searchPackageVersions({
  viewer,
  condition,
  limit,
  cursor,
}: {
  viewer: Viewer;
  condition: PackageCondition;
  limit: number;
  cursor?: string;
}): Promise<{ items: PackageOccurrence[]; nextCursor: string | null }> {
  const after = cursor ? decode(cursor) : null;
  const result = await db().execute<Record<string, unknown>>(sql`
    select i.slug, i.name as image_name, v.id as version_id, v.version, p.version as package_version, p.arch, p.id as package_id
    from content_packages p
    join image_versions v on v.sha256 = p.scan_sha256
    join images i on i.id = v.image_id
    where p.name = ${condition.name} and ${visibleVersionCondition(viewer, { image: "i", version: "v" })}
      ${after ? sql`and (i.slug, v.id, p.id) > (${after[0]}, ${after[1]}::uuid, ${after[2]})` : sql``}
    order by i.slug, v.id, p.id
    limit ${limit + 1}`);
  const items = result.rows.slice(0, limit).map((row) => ({
    imageSlug: String(row.slug),
    imageName: String(row.image_name),
    versionId: String(row.version_id),
    version: String(row.version),
    packageVersion: String(row.package_version),
    arch: String(row.arch),
  }));
  const last = result.rows[limit - 1];
  return {
    items,
    nextCursor:
      result.rows.length > limit && last
        ? encode([String(last.slug), String(last.version_id), Number(last.package_id)])
        : null,
  };
}

export interface PackageChange {
  name: string;
  arch: string;
  from?: string;
  to?: string;
}

export interface PackageDiff {
  added: PackageChange[];
  removed: PackageChange[];
  upgraded: PackageChange[];
  downgraded: PackageChange[];
}

/** Packages added, removed, upgraded and downgraded from one scan to another, by (name, arch). */
export async function diffPackages({
  fromSha256,
  toSha256,
}: {
  fromSha256: string;
  toSha256: string;
}): Promise<PackageDiff> {
  const result = await db().execute<{
    name: string;
    arch: string;
    from_version: string | null;
    to_version: string | null;
    from_key: Buffer | null;
    to_key: Buffer | null;
  }>(sql`
    select coalesce(a.name, b.name) as name, coalesce(a.arch, b.arch) as arch,
           a.version as from_version, b.version as to_version, a.sort_key as from_key, b.sort_key as to_key
    from (select name, arch, version, sort_key from content_packages where scan_sha256 = ${fromSha256}) a
    full join (select name, arch, version, sort_key from content_packages where scan_sha256 = ${toSha256}) b
      on a.name = b.name and a.arch = b.arch
    where a.version is distinct from b.version
    order by 1, 2`);
  const diff: PackageDiff = { added: [], removed: [], upgraded: [], downgraded: [] };
  for (const row of result.rows) {
    if (row.from_version === null) diff.added.push({ name: row.name, arch: row.arch, to: row.to_version ?? "" });
    else if (row.to_version === null) diff.removed.push({ name: row.name, arch: row.arch, from: row.from_version });
    else {
      const change = { name: row.name, arch: row.arch, from: row.from_version, to: row.to_version };
      const order = row.from_key && row.to_key ? Buffer.compare(row.from_key, row.to_key) : 0;
      (order > 0 ? diff.downgraded : diff.upgraded).push(change);
    }
  }
  return diff;
}
