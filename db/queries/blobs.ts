// Blob rows: one per content-addressed file in the blob store, shared by every version,
// conversion and recipe file with the same bytes.
import { eq, sql } from "drizzle-orm";
import { db } from "../client";
import { blobs } from "../schema";

/** Whether a blob row holds these bytes; bytes stored for work that did not land go unless one does. */
export async function isBlobRecorded(sha256: string): Promise<boolean> {
  const [kept] = await db().select({ sha256: blobs.sha256 }).from(blobs).where(eq(blobs.sha256, sha256));
  return kept !== undefined;
}

/** Every blob something still refers to: versions, cached conversions and recipe files. */
export async function listReferencedBlobs(): Promise<Set<string>> {
  const referenced = await db().execute<{ sha256: string }>(sql`
    select sha256 from image_versions where sha256 is not null
    union select sha256 from conversions where sha256 is not null
    union select sha256 from recipe_files`);
  return new Set(referenced.rows.map((row) => row.sha256));
}

/** Removes a blob's row unless something refers to it again. */
export async function deleteUnreferencedBlob(sha256: string): Promise<void> {
  await db().execute(sql`delete from blobs b where b.sha256 = ${sha256}
    and not exists (select 1 from image_versions v where v.sha256 = b.sha256)
    and not exists (select 1 from conversions c where c.sha256 = b.sha256)
    and not exists (select 1 from recipe_files f where f.sha256 = b.sha256)`);
}
