// An upload's bytes in a bucket (`<prefix>uploads/<id>`, lib/imports/upload-parts.ts) are its
// multipart upload while it arrives and, once complete, the blob's object when its blob row names
// it. Anything else under `uploads/` was left by an upload that ended otherwise (failed, cancelled,
// expired, a duplicate whose removal was cut short): an orphan, for `blobs verify` to report and
// start-up reconciliation to remove.
import { listLiveUploadObjects } from "@/db/queries/uploads";
import type { BlobStore, UploadObject } from "@/lib/storage";

/** Unfinished multipart uploads older than this are abandoned even if their upload still counts as active. */
const STALE_MULTIPART_MS = 24 * 60 * 60 * 1000;

export interface UploadObjects {
  /** Objects and multipart uploads nothing will use: safe to remove. */
  orphans: UploadObject[];
  /** Those of uploads still active: not orphans. */
  live: number;
}

export async function classifyUploadObjects(store: BlobStore, now = new Date()): Promise<UploadObjects> {
  const bucket = store as Partial<{ listUploadObjects(): AsyncIterable<UploadObject> }>;
  if (!bucket.listUploadObjects) return { orphans: [], live: 0 };
  const listed: UploadObject[] = [];
  for await (const object of bucket.listUploadObjects()) listed.push(object);
  // Read after listing, in one snapshot: an upload that completed meanwhile is named by its blob row.
  const { activeUploads, blobKeys } = await listLiveUploadObjects();
  const result: UploadObjects = { orphans: [], live: 0 };
  for (const object of listed) {
    if (!object.multipartId && blobKeys.has(`uploads/${object.uploadId}`)) continue;
    const stale = object.multipartId !== undefined && now.getTime() - object.modified.getTime() > STALE_MULTIPART_MS;
    if (activeUploads.has(object.uploadId) && !stale) result.live += 1;
    else result.orphans.push(object);
  }
  return result;
}

/** Removes what `classifyUploadObjects` calls orphans; returns how many went. */
export async function removeOrphanUploadObjects(store: BlobStore): Promise<number> {
  const bucket = store as Partial<{ deleteUploadObject(object: UploadObject): Promise<void> }>;
  if (!bucket.deleteUploadObject) return 0;
  const { orphans } = await classifyUploadObjects(store);
  for (const orphan of orphans) await bucket.deleteUploadObject(orphan);
  return orphans.length;
}
