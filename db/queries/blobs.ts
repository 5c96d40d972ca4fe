// Blob rows: one per content-addressed file in the blob store, shared by every version,
// conversion and recipe file with the same bytes.
import { and, eq, isNull, or, sql } from "drizzle-orm";
import { db } from "../client";
import { blobs, imageVersions } from "../schema";

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

export interface BlobChecksums {
  sha256: string;
  /** Null until the blob.checksums job has computed it (a conversion's or flattened clone's output). */
  sha512: string | null;
  md5: string | null;
  size: number;
  /** All three are known: what feeds wait for before they list the file. */
  complete: boolean;
}

/** A blob's checksums, and whether all three are known; null when there is no such blob. */
export async function getBlobChecksums({ sha256 }: { sha256: string }): Promise<BlobChecksums | null> {
  const [row] = await db()
    .select({ sha256: blobs.sha256, sha512: blobs.sha512, md5: blobs.md5, size: blobs.size })
    .from(blobs)
    .where(eq(blobs.sha256, sha256));
  if (!row) return null;
  return { ...row, complete: row.sha512 !== null && row.md5 !== null };
}

/** Blobs still lacking sha512 or md5, for the start-up sweep that queues their job. */
export async function listBlobsMissingChecksums(): Promise<string[]> {
  const rows = await db()
    .select({ sha256: blobs.sha256 })
    .from(blobs)
    .where(or(isNull(blobs.sha512), isNull(blobs.md5)))
    .orderBy(blobs.createdAt);
  return rows.map((row) => row.sha256);
}

/**
 * Stores checksums computed from a blob's bytes; one already known is kept (the same bytes give the
 * same value). Versions holding the blob get the sha512 they lack, as the upload path stores it on both.
 */
export async function recordBlobChecksums({
  sha256,
  sha512,
  md5,
}: {
  sha256: string;
  sha512?: string;
  md5?: string;
}): Promise<void> {
  await db().transaction(async (tx) => {
    await tx
      .update(blobs)
      .set({
        sha512: sql`coalesce(${blobs.sha512}, ${sha512 ?? null})`,
        md5: sql`coalesce(${blobs.md5}, ${md5 ?? null})`,
      })
      .where(eq(blobs.sha256, sha256));
    if (sha512)
      await tx
        .update(imageVersions)
        .set({ sha512 })
        .where(and(eq(imageVersions.sha256, sha256), isNull(imageVersions.sha512)));
  });
}

/**
 * Why the latest checksum job of a blob failed (pg-boss keeps the error it ended with), while the
 * checksums are still incomplete; null when none failed or the queue's tables are not there yet.
 */
export async function getBlobChecksumFailure({ sha256 }: { sha256: string }): Promise<string | null> {
  const queueExists = (
    await db().execute<{ present: boolean }>(sql`select to_regclass('pgboss.job') is not null as present`)
  ).rows[0]?.present;
  if (!queueExists) return null;
  const result = await db().execute<{ reason: string | null }>(sql`
    select case when latest.state in ('retry', 'failed') then latest.output->>'message' end as reason
    from (select j.state, j.output from pgboss.job j
          where j.name = 'blob.checksums' and j.singleton_key = ${sha256}
          order by j.created_on desc limit 1) latest
    where exists (select 1 from blobs b where b.sha256 = ${sha256} and (b.sha512 is null or b.md5 is null))`);
  return result.rows[0]?.reason ?? null;
}
