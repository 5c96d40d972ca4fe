// TEMPORARY: replaced by the file-diff branch at merge
// A stand-in with the real module's read signature so the compare page compiles and runs.
import { sql } from "drizzle-orm";
import type { ContentJobStatus } from "@/db/enums";
import type { FileDiff } from "@/lib/content/types";
import { isUuid } from "@/lib/ids";
import { db } from "../client";
import { visibleVersionCondition } from "./access";
import type { Viewer } from "./users";

export interface FileDiffView {
  id: string;
  status: ContentJobStatus;
  failureReason: string | null;
  files: FileDiff[] | null;
  queuedAt: Date;
  finishedAt: Date | null;
}

/** The newest file diff of the pair when the viewer may see both versions; null otherwise or when none was asked for. */
export async function getFileDiff({
  viewer,
  fromVersionId,
  toVersionId,
}: {
  viewer: Viewer;
  fromVersionId: string;
  toVersionId: string;
}): Promise<FileDiffView | null> {
  if (!isUuid(fromVersionId) || !isUuid(toVersionId)) return null;
  const result = await db().execute<Record<string, unknown>>(sql`
    select d.id, d.status, d.failure_reason, d.files, d.queued_at, d.finished_at
    from version_diffs d
    join image_versions fv on fv.id = d.from_version_id join images fi on fi.id = fv.image_id
    join image_versions tv on tv.id = d.to_version_id join images ti on ti.id = tv.image_id
    where d.from_version_id = ${fromVersionId} and d.to_version_id = ${toVersionId}
      and ${visibleVersionCondition(viewer, { image: "fi", version: "fv" })}
      and ${visibleVersionCondition(viewer, { image: "ti", version: "tv" })}
    order by d.queued_at desc limit 1`);
  const row = result.rows[0];
  if (!row) return null;
  return {
    id: String(row.id),
    status: row.status as ContentJobStatus,
    failureReason: (row.failure_reason as string | null) ?? null,
    files: (row.files as FileDiff[] | null) ?? null,
    queuedAt: new Date(String(row.queued_at)),
    finishedAt: row.finished_at ? new Date(String(row.finished_at)) : null,
  };
}
