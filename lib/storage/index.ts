import path from "node:path";
import { createLocalBlobStore, type BlobStore } from "./blob-store";

export { assertSha256, createLocalBlobStore, type BlobStore } from "./blob-store";

const globalForStore = globalThis as unknown as { hangarBlobStore?: { root: string; store: BlobStore } };

/** The configured store: the local directory `<HANGAR_DATA_DIR>/blobs`. */
export function getBlobStore(): BlobStore {
  const root = path.resolve(process.env.HANGAR_DATA_DIR ?? ".hangar", "blobs");
  if (globalForStore.hangarBlobStore?.root !== root) globalForStore.hangarBlobStore = { root, store: createLocalBlobStore({ root }) };
  return globalForStore.hangarBlobStore.store;
}
