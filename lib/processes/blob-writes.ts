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
