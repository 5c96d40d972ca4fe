// A blob write is recorded in PostgreSQL before its bytes are put and ended once the row referring
// to them committed, so no other process's orphan sweep deletes bytes that are about to be used.
import { deleteBlobWrite, deleteOrphanBlob, insertBlobWrite } from "@/db/queries/blobs";
import { PROCESS_LEASE_SECONDS } from "@/db/queries/processes";
import { getBlobStore } from "@/lib/storage";
import { currentProcessId } from "./identity";

/** How long a write with no registered owner (the CLI, scripts) counts as in progress. */
export const UNOWNED_WORK_SECONDS = 6 * 60 * 60;

export interface BlobWrite {
  /** The bytes are referenced now (or were never put): the record goes. */
  end(): Promise<void>;
  /** The work did not land: its bytes go too, unless something refers to them or another live process writes them. */
  discard(): Promise<void>;
}

export async function beginBlobWrite(sha256: string): Promise<BlobWrite> {
  const id = await insertBlobWrite({ sha256, processId: currentProcessId() });
  return {
    end: () => deleteBlobWrite({ id }),
    async discard() {
      await deleteOrphanBlob({
        sha256,
        leaseSeconds: PROCESS_LEASE_SECONDS,
        unownedSeconds: UNOWNED_WORK_SECONDS,
        exceptWriteId: id,
        removeBytes: () => getBlobStore().delete(sha256),
      });
      await deleteBlobWrite({ id });
    },
  };
}

/**
 * Puts a hashed temp file into the blob store under a write record, then runs `record` (the
 * transaction that refers to the bytes). If either fails, bytes nobody else uses go again.
 */
export async function storeBlob<T>(
  { tempPath, sha256, size }: { tempPath: string; sha256: string; size: number },
  record: () => Promise<T>,
): Promise<T> {
  const write = await beginBlobWrite(sha256);
  try {
    await getBlobStore().putFromTempFile({ tempPath, sha256, size });
    const recorded = await record();
    await write.end();
    return recorded;
  } catch (error) {
    await write.discard().catch(() => {});
    throw error;
  }
}

/**
 * Adopts bytes already in the store under another key (an upload completed in place in a bucket)
 * under a write record: `record` inserts the blob row naming that key. When the same bytes had a
 * blob already, the row stays as it was and `remove` deletes the new copy, so they are kept once.
 */
export async function adoptStoredObject<T extends { blobCreated: boolean }>(
  { sha256, remove }: { sha256: string; remove: () => Promise<void> },
  record: () => Promise<T>,
): Promise<T> {
  const write = await beginBlobWrite(sha256);
  try {
    const recorded = await record();
    if (!recorded.blobCreated) await remove();
    return recorded;
  } finally {
    await write.end();
  }
}
