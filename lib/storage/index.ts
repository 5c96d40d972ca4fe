import path from "node:path";
import { env } from "@/lib/env";
import { createLocalBlobStore, type BlobStore } from "./blob-store";

export { assertSha256, BlobNotFoundError, createLocalBlobStore, type BlobStore } from "./blob-store";
export { hashFile } from "./hash";
export { createTempFolder, createTempPath, flushToDisk, tempDir } from "./temp";

const globalForStore = globalThis as unknown as { hangarBlobStore?: { root: string; store: BlobStore } };

/** The configured store: the local directory `<HANGAR_DATA_DIR>/blobs`, made absolute. */
export function getBlobStore(): BlobStore {
  const root = path.join(env().dataDir, "blobs");
  // Kept on globalThis so dev-mode module reloads share one instance; re-made if the data dir changes (tests).
  if (globalForStore.hangarBlobStore?.root !== root)
    globalForStore.hangarBlobStore = { root, store: createLocalBlobStore({ root }) };
  return globalForStore.hangarBlobStore.store;
}
