// Start-up reconciliation after a crash or kill: nothing half-written may stay visible. Temp files
// without a live upload session go; blobs that no version or conversion references go; uploads
// past their expiry end failed; imports that were mid-finalisation (or URL imports whose job is
// gone) end failed with a reason, while live tus uploads stay resumable.
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { sql } from "drizzle-orm";
import { db } from "@/db/client";
import { failImport, listActiveUploadIds, listExpiredActiveUploads } from "@/db/queries/uploads";
import { env } from "@/lib/env";
import { getBlobStore } from "@/lib/storage";

const STALE_TEMP_MS = 10 * 60 * 1000;

export interface ReconcileReport {
  expiredUploads: number;
  interruptedImports: number;
  removedTempFiles: number;
  removedBlobs: number;
}

export async function reconcileStorage({ log = () => {} }: { log?: (line: string) => void } = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = { expiredUploads: 0, interruptedImports: 0, removedTempFiles: 0, removedBlobs: 0 };
  for (const upload of await listExpiredActiveUploads()) {
    await failImport({ versionId: upload.versionId, uploadId: upload.id, actorId: null, reason: "The upload expired after 24 hours without finishing; start it again." });
    report.expiredUploads += 1;
  }
  // 'importing' means finalisation was under way when the process died; URL imports whose job no
  // longer exists can't continue either.
  const queueExists = (await db().execute<{ present: boolean }>(sql`select to_regclass('pgboss.job') is not null as present`)).rows[0]?.present;
  const noLiveJob = queueExists
    ? sql`not exists (select 1 from pgboss.job j where j.name = 'image.import-url' and j.data->>'versionId' = v.id::text and j.state in ('created', 'retry', 'active'))`
    : sql`true`;
  const interrupted = await db().execute<{ id: string }>(sql`
    select v.id from image_versions v
    where (v.data_status = 'importing' and v.source = 'upload')
       or (v.data_status = 'uploading' and not exists (select 1 from uploads u where u.version_id = v.id and u.status = 'active'))
       or (v.data_status in ('queued', 'importing') and v.source = 'url' and ${noLiveJob})`);
  for (const row of interrupted.rows) {
    await failImport({ versionId: row.id, actorId: null, reason: "The server stopped while this import was being processed; nothing was kept. Start the import again." });
    report.interruptedImports += 1;
  }

  const live = await listActiveUploadIds();
  const uploadDir = path.join(env().dataDir, "uploads");
  for (const name of await readdir(uploadDir).catch(() => [] as string[])) {
    const id = name.replace(/\.json$/, "");
    if (live.has(id)) continue;
    await rm(path.join(uploadDir, name), { force: true });
    report.removedTempFiles += 1;
  }
  const tmpDir = path.join(env().dataDir, "tmp");
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    // Workers elsewhere may share this directory: a file still being written has a fresh mtime.
    const file = path.join(tmpDir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile() && Date.now() - info.mtimeMs > STALE_TEMP_MS) {
      await rm(file, { force: true });
      report.removedTempFiles += 1;
    }
  }

  const referenced = await db().execute<{ sha256: string }>(sql`
    select sha256 from image_versions where sha256 is not null
    union select sha256 from conversions where sha256 is not null
    union select sha256 from recipe_files`);
  const keep = new Set(referenced.rows.map((row) => row.sha256));
  const store = getBlobStore();
  for await (const sha256 of store.list()) {
    if (keep.has(sha256)) continue;
    await store.delete(sha256);
    await db().execute(sql`delete from blobs b where b.sha256 = ${sha256}
      and not exists (select 1 from image_versions v where v.sha256 = b.sha256)
      and not exists (select 1 from conversions c where c.sha256 = b.sha256)
      and not exists (select 1 from recipe_files f where f.sha256 = b.sha256)`);
    report.removedBlobs += 1;
  }
  const changed = Object.values(report).some((count) => count > 0);
  if (changed) log(`Reconciled storage: ${JSON.stringify(report)}`);
  return report;
}
