// "The newest approved version of an image" in SQL, spelled once: what `latest` points at, what a
// rebuild moves onto, what makes a derived version out of date, what a retiring version names as
// its replacement. Only approved, ready versions count.
import { sql, type SQL } from "drizzle-orm";

/**
 * `select id, version, created_at …`: the approved, ready versions of the image `imageId` (a value
 * or a column of the outer query), newest first; `limit` of them, by default the newest alone.
 * `excludingId` leaves one version out (the version asking about its own base).
 */
export function approvedVersionsSql(imageId: SQL | string, { excludingId, limit = 1 }: { excludingId?: SQL | string; limit?: number } = {}): SQL {
  const excluding = excludingId === undefined ? sql`` : sql` and id <> ${excludingId}`;
  return sql`select id, version, created_at from image_versions
    where image_id = ${imageId} and release_status = 'approved' and data_status = 'ready'${excluding}
    order by created_at desc, id desc limit ${limit}`;
}
