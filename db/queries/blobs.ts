// Blob rows: one per content-addressed file in the blob store, shared by every version,
// conversion and recipe file with the same bytes.
import { and, eq, inArray, isNotNull, isNull, or, sql } from "drizzle-orm";
import { db } from "../client";
import { blobs, imageVersions } from "../schema";
import { liveProcessSql } from "./processes";

/** Every blob something still refers to: versions, cached conversions and recipe files. */
export async function listReferencedBlobs(): Promise<Set<string>> {
  const referenced = await db().execute<{ sha256: string }>(sql`
    select sha256 from image_versions where sha256 is not null
    union select sha256 from conversions where sha256 is not null
    union select sha256 from recipe_files`);
  return new Set(referenced.rows.map((row) => row.sha256));
}

// Taken, per sha256, by whoever records a write of those bytes and by whoever deletes them as an
// orphan: a write recorded first keeps the bytes; a deletion under way finishes before the write
// is recorded, and the writer then puts the bytes afresh.
const blobLock = (sha256: string) => sql`select pg_advisory_xact_lock(16016, hashtext(${sha256}))`;

/** A write in progress: its process's lease holds, or it has no process and is younger than `unownedSeconds`. */
const liveWriteSql = (leaseSeconds: number, unownedSeconds: number) =>
  sql`(w.process_id is null and w.started_at > now() - make_interval(secs => ${unownedSeconds}))
    or (w.process_id is not null and ${liveProcessSql(sql`w.process_id`, leaseSeconds)})`;

/** Records, before the bytes are put, that `processId` (null: a process outside the registry) writes this blob. */
export async function insertBlobWrite({
  sha256,
  processId,
}: {
  sha256: string;
  processId: string | null;
}): Promise<string> {
  return db().transaction(async (tx) => {
    await tx.execute(blobLock(sha256));
    const inserted = await tx.execute<{ id: string }>(
      sql`insert into blob_writes (sha256, process_id) values (${sha256}, ${processId}) returning id`,
    );
    const id = inserted.rows[0]?.id;
    if (!id) throw new Error("recording the blob write returned nothing");
    return id;
  });
}

export async function deleteBlobWrite({ id }: { id: string }): Promise<void> {
  await db().execute(sql`delete from blob_writes where id = ${id}`);
}

/** Writes whose process died (or, without one, older than `unownedSeconds`): their bytes may be orphans. */
export async function listAbandonedBlobWrites({
  leaseSeconds,
  unownedSeconds,
}: {
  leaseSeconds: number;
  unownedSeconds: number;
}): Promise<{ id: string; sha256: string }[]> {
  const result = await db().execute<{ id: string; sha256: string }>(sql`
    select w.id, w.sha256 from blob_writes w where not (${liveWriteSql(leaseSeconds, unownedSeconds)})`);
  return result.rows;
}

/**
 * Deletes a blob that nothing refers to and no live process is writing (`exceptWriteId`: the
 * caller's own write, which is giving up): `removeBytes` runs under the blob's lock, then its row
 * goes. Returns whether it was deleted.
 */
export async function deleteOrphanBlob({
  sha256,
  leaseSeconds,
  unownedSeconds,
  exceptWriteId = null,
  removeBytes,
}: {
  sha256: string;
  leaseSeconds: number;
  unownedSeconds: number;
  exceptWriteId?: string | null;
  removeBytes: () => Promise<void>;
}): Promise<boolean> {
  return db().transaction(async (tx) => {
    await tx.execute(blobLock(sha256));
    const kept = await tx.execute<{ kept: boolean }>(sql`select
      exists (select 1 from image_versions v where v.sha256 = ${sha256})
      or exists (select 1 from conversions c where c.sha256 = ${sha256})
      or exists (select 1 from recipe_files f where f.sha256 = ${sha256})
      or exists (select 1 from blob_writes w where w.sha256 = ${sha256}
        and w.id is distinct from ${exceptWriteId}::uuid and (${liveWriteSql(leaseSeconds, unownedSeconds)})) as kept`);
    if (kept.rows[0]?.kept) return false;
    await removeBytes();
    await tx.execute(sql`delete from blobs where sha256 = ${sha256}`);
    return true;
  });
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

export interface BlobReference {
  sha256: string;
  /** The size the blob row recorded when its bytes were stored. */
  size: number;
  /** Who refers to it, for a person: `version debian-12@1.2`, `conversion debian-12@1.2 → raw`, `recipe file setup.sh`. */
  referrers: string[];
}

/** Every blob a version, a conversion or a recipe file refers to, with its recorded size, in sha256 order. */
export async function listBlobReferences(): Promise<BlobReference[]> {
  const result = await db().execute<{ sha256: string; size: string | number; referrers: string[] }>(sql`
    select r.sha256, b.size, array_agg(r.label order by r.label) as referrers
    from (
      select v.sha256, 'version ' || i.slug || '@' || v.version as label
        from image_versions v join images i on i.id = v.image_id where v.sha256 is not null
      union all
      select c.sha256, 'conversion ' || i.slug || '@' || v.version || ' → ' || c.target_format
        from conversions c join image_versions v on v.id = c.version_id join images i on i.id = v.image_id
        where c.sha256 is not null
      union all
      select f.sha256, 'recipe file ' || coalesce(nullif(f.filename, ''), f.sha256) from recipe_files f
    ) r join blobs b on b.sha256 = r.sha256
    group by r.sha256, b.size
    order by r.sha256`);
  return result.rows.map((row) => ({ sha256: row.sha256, size: Number(row.size), referrers: row.referrers }));
}

/** The sha256 of every blob a live process (or a recent one outside the registry) is writing now. */
export async function listLiveBlobWrites({
  leaseSeconds,
  unownedSeconds,
}: {
  leaseSeconds: number;
  unownedSeconds: number;
}): Promise<Set<string>> {
  const result = await db().execute<{ sha256: string }>(sql`
    select distinct w.sha256 from blob_writes w where ${liveWriteSql(leaseSeconds, unownedSeconds)}`);
  return new Set(result.rows.map((row) => row.sha256));
}

/** Where in the bucket a blob's bytes are when not under its sha256 (blobs.object_key); null: there. */
export async function getBlobObjectKey({ sha256 }: { sha256: string }): Promise<string | null> {
  const [row] = await db().select({ objectKey: blobs.objectKey }).from(blobs).where(eq(blobs.sha256, sha256));
  return row?.objectKey ?? null;
}

/** The blobs whose bytes are at these object keys, key → sha256. */
export async function listBlobsAtObjectKeys({ keys }: { keys: string[] }): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const rows = await db()
    .select({ sha256: blobs.sha256, objectKey: blobs.objectKey })
    .from(blobs)
    .where(inArray(blobs.objectKey, keys));
  return new Map(rows.map((row) => [row.objectKey!, row.sha256]));
}

export interface LinkedOverlay {
  sha256: string;
  /** The blob its base version holds now: what the overlay's header must name. */
  baseSha256: string;
  /** The versions whose file it is (image slug @ version). */
  versions: string[];
}

/** Every linked clone's overlay with the blob of the base it is a clone of. */
export async function listLinkedOverlays(): Promise<LinkedOverlay[]> {
  const result = await db().execute<{ sha256: string; base_sha256: string; versions: string[] }>(sql`
    select v.sha256, base.sha256 as base_sha256, array_agg(i.slug || '@' || v.version order by i.slug, v.version) as versions
    from image_versions v
    join image_versions base on base.id = v.backing_version_id
    join images i on i.id = v.image_id
    where v.sha256 is not null and base.sha256 is not null and v.format = 'qcow2'
    group by v.sha256, base.sha256
    order by v.sha256`);
  return result.rows.map((row) => ({ sha256: row.sha256, baseSha256: row.base_sha256, versions: row.versions }));
}

/**
 * Moves the versions holding overlay `from` onto the blob `to` (the same overlay with another
 * backing name in its header, so the same disk): its blob row, the versions' recorded sha256 and
 * sha512, and its content scan with its packages (what the guest holds has not changed). The blob
 * `from` keeps its row and bytes until nothing refers to it and reconciliation removes it.
 */
export async function moveVersionsToBlob({
  from,
  to,
}: {
  from: string;
  to: { sha256: string; sha512: string; md5: string | null; size: number };
}): Promise<number> {
  return db().transaction(async (tx) => {
    await tx.execute(blobLock(to.sha256));
    await tx
      .insert(blobs)
      .values({ sha256: to.sha256, sha512: to.sha512, md5: to.md5, size: to.size })
      .onConflictDoNothing();
    const copied = await tx.execute(sql`
      insert into content_scans
      select (jsonb_populate_record(null::content_scans, to_jsonb(s) || jsonb_build_object('sha256', ${to.sha256}::text))).*
      from content_scans s where s.sha256 = ${from}
      on conflict (sha256) do nothing`);
    if (copied.rowCount)
      await tx.execute(sql`
        insert into content_packages (scan_sha256, name, version, epoch, upstream_version, release, arch, scheme, sort_key)
        select ${to.sha256}, name, version, epoch, upstream_version, release, arch, scheme, sort_key
        from content_packages where scan_sha256 = ${from}`);
    const moved = await tx
      .update(imageVersions)
      .set({ sha256: to.sha256, sha512: to.sha512, fileSize: to.size })
      .where(and(eq(imageVersions.sha256, from), isNotNull(imageVersions.backingVersionId)))
      .returning({ id: imageVersions.id });
    return moved.length;
  });
}
