import path from "node:path";
import type { Readable } from "node:stream";
import { env, type HangarEnv } from "@/lib/env";
import { createLocalBlobStore, type BlobStore } from "./blob-store";
import { createS3BlobStore, type S3BlobStore } from "./s3-store";

export { assertSha256, BlobNotFoundError, createLocalBlobStore, type BlobStore } from "./blob-store";
export { hashFile } from "./hash";
export { createS3BlobStore, type S3BlobStore, type UploadObject } from "./s3-store";
export { createTempFolder, createTempPath, flushToDisk, tempDir } from "./temp";
export { linkBlob, placeFile } from "./link";

const globalForStore = globalThis as unknown as { hangarBlobStore?: { key: string; store: BlobStore } };

function storeFor(
  config: HangarEnv,
  kind: HangarEnv["HANGAR_BLOB_STORE"] = config.HANGAR_BLOB_STORE,
): { key: string; make: () => BlobStore } {
  if (kind === "local") {
    const root = path.join(config.dataDir, "blobs");
    return { key: `local:${root}`, make: () => createLocalBlobStore({ root }) };
  }
  // readEnv refuses HANGAR_BLOB_STORE=s3 without a bucket; the other store (npm run blobs) may lack one.
  if (!config.HANGAR_S3_BUCKET)
    throw new Error(
      "The bucket store needs HANGAR_S3_BUCKET, the bucket that holds the blobs (and HANGAR_S3_ENDPOINT unless it is AWS S3, with HANGAR_S3_ACCESS_KEY_ID and HANGAR_S3_SECRET_ACCESS_KEY).",
    );
  const settings = {
    endpoint: config.HANGAR_S3_ENDPOINT,
    bucket: config.HANGAR_S3_BUCKET,
    region: config.HANGAR_S3_REGION,
    accessKeyId: config.HANGAR_S3_ACCESS_KEY_ID,
    secretAccessKey: config.HANGAR_S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.HANGAR_S3_FORCE_PATH_STYLE,
    prefix: config.HANGAR_S3_PREFIX,
    cache: { dir: path.join(config.dataDir, "blob-cache"), maxBytes: config.HANGAR_BLOB_CACHE_BYTES },
  };
  // Loaded when first asked, so that code using the store without the database loads no driver.
  const rows = () => import("@/db/queries/blobs");
  return {
    key: `s3:${JSON.stringify(settings)}`,
    make: () =>
      createS3BlobStore({
        ...settings,
        objectKeyOf: async (sha256) => (await rows()).getBlobObjectKey({ sha256 }),
        blobsAtKeys: async (keys) => (await rows()).listBlobsAtObjectKeys({ keys }),
      }),
  };
}

/**
 * A store of either kind from the configuration, whichever HANGAR_BLOB_STORE names: `npm run blobs
 * -- migrate` copies between the two. Not shared; throws, naming the setting, when s3 has no bucket.
 */
export function createBlobStoreOf(config: HangarEnv, kind: HangarEnv["HANGAR_BLOB_STORE"]): BlobStore {
  return storeFor(config, kind).make();
}

/**
 * The configured store (HANGAR_BLOB_STORE): the local directory `<HANGAR_DATA_DIR>/blobs`, made
 * absolute, or an S3-compatible bucket with a local cache under `<HANGAR_DATA_DIR>/blob-cache`.
 */
export function getBlobStore(): BlobStore {
  const { key, make } = storeFor(env());
  // Kept on globalThis so dev-mode module reloads share one instance; re-made if the settings change (tests).
  if (globalForStore.hangarBlobStore?.key !== key) globalForStore.hangarBlobStore = { key, store: make() };
  return globalForStore.hangarBlobStore.store;
}

/**
 * Resolves when the configured store can be used; for a bucket, rejects with a message naming the
 * setting to fix (credentials, bucket, region, endpoint). Says what it checked.
 */
export async function checkBlobStoreReachable(): Promise<string> {
  const config = env();
  if (config.HANGAR_BLOB_STORE !== "s3") return `the local store is ${path.join(config.dataDir, "blobs")}`;
  await (getBlobStore() as S3BlobStore).check();
  return `bucket ${config.HANGAR_S3_BUCKET} at ${config.HANGAR_S3_ENDPOINT ?? "AWS S3"} answers`;
}

/**
 * What a download sends for bytes [start, end] of a blob: the stored file when it is on this machine,
 * else a ranged stream from the bucket (never a whole-blob fetch into the cache).
 */
export async function openBlobRange(
  sha256: string,
  range: { start: number; end: number },
): Promise<{ file: string } | { stream: Readable }> {
  const store = getBlobStore();
  const file = await store.storedFile(sha256);
  return file ? { file } : { stream: await store.createReadStream(sha256, range) };
}

/**
 * With HANGAR_S3_DOWNLOADS=redirect, a short-lived presigned URL that answers GET (and Range) on
 * the blob with these headers; else null, and the download is streamed through Hangar.
 */
export async function blobRedirectUrl(
  sha256: string,
  headers: { contentDisposition: string; contentType: string; cacheControl: string },
): Promise<string | null> {
  const config = env();
  if (config.HANGAR_BLOB_STORE !== "s3" || config.HANGAR_S3_DOWNLOADS !== "redirect") return null;
  return (getBlobStore() as S3BlobStore).presignedGetUrl(sha256, {
    ...headers,
    expiresIn: config.HANGAR_S3_REDIRECT_SECONDS,
  });
}
