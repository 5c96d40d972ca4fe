// Release rules in SQL. "The newest approved version of an image" is spelled once here: what
// `latest` points at, what a rebuild moves onto, what makes a derived version out of date, what a
// retiring version names as its replacement (only approved, ready versions count). The sets of
// states themselves live in lib/governance/release.ts.
import { sql, type SQL } from "drizzle-orm";
import type { ReleaseStatus } from "@/db/enums";

/**
 * `select id, version, created_at …`: the approved, ready versions of the image `imageId` (a value
 * or a column of the outer query), newest first; `limit` of them, by default the newest alone.
 * `excludingId` leaves one version out (the version asking about its own base).
 */
export function approvedVersionsSql(
  imageId: SQL | string,
  { excludingId, limit = 1 }: { excludingId?: SQL | string; limit?: number } = {},
): SQL {
  const excluding = excludingId === undefined ? sql`` : sql` and id <> ${excludingId}`;
  return sql`select id, version, created_at from image_versions
    where image_id = ${imageId} and release_status = 'approved' and data_status = 'ready'${excluding}
    order by created_at desc, id desc limit ${limit}`;
}

/** `<column> in (…)` for a set of release states from lib/governance/release.ts (literals, so plans can use them). */
export function releaseStatusIn(statusColumn: SQL | { getSQL(): SQL }, statuses: readonly ReleaseStatus[]): SQL {
  return sql`${statusColumn} in (${sql.raw(statuses.map((status) => `'${status}'`).join(", "))})`;
}
