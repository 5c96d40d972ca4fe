// Image bytes are stored once per sha256, under names the server derives from the hash (never the
// user's file name). The interface is small on purpose so an S3-compatible backend can follow
// without touching callers; the local directory backend is the default.
import { randomBytes } from "node:crypto";
import { constants, createReadStream as fsReadStream } from "node:fs";
import { chmod, copyFile, lstat, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

// Downloads read blobs in 1 MiB pieces: at the 64 KiB default every piece crosses the web stream a
// route returns and the response separately, and a GiB took 2.2 s to send over loopback, against
// 0.8 s in 1 MiB pieces.
const READ_CHUNK_BYTES = 1024 * 1024;

export interface BlobStore {
  /**
   * Moves a finished temp file in atomically (fsync, rename, fsync dir); the caller has hashed it.
   * Same bytes twice: kept once, the second temp file is deleted and `created` is false.
   */
  putFromTempFile(options: { tempPath: string; sha256: string; size: number }): Promise<{ created: boolean }>;
  /** `range.end` is inclusive, as in HTTP Range, and must lie inside the blob. */
  createReadStream(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  stat(sha256: string): Promise<{ size: number } | null>;
  /** Deleting a blob that is not there is not an error. */
  delete(sha256: string): Promise<void>;
  /**
   * A path for a quick look (tests, a read that opens it at once); the file must not be modified. A
   * bucket's cached copy may be evicted before a later open: tools use withLocalPath or linkBlob.
   */
  localPath(sha256: string): Promise<string>;
  /** Runs `work` with a path holding the blob, which stays there until `work` settles; not to be modified. */
  withLocalPath<T>(sha256: string, work: (file: string) => Promise<T>): Promise<T>;
  /**
   * The stored file itself when this store keeps blobs on this machine, else null (a bucket): a
   * download sends that file directly instead of streaming it, and never fills a cache to do so.
   */
  storedFile(sha256: string): Promise<string | null>;
  /** Every stored sha256, for start-up reconciliation. */
  list(): AsyncIterable<string>;
}

export class BlobNotFoundError extends Error {
  readonly code = "ENOENT";
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is not in the store`);
    this.name = "BlobNotFoundError";
  }
}

const SHA256 = /^[0-9a-f]{64}$/;

export function assertSha256(value: string): string {
  if (typeof value !== "string" || !SHA256.test(value))
    throw new Error(`not a sha256 digest: ${JSON.stringify(value)?.slice(0, 80)}`);
  return value;
}

/** Refuses a temp file that is not a regular file of the size the caller hashed (every backend). */
export async function assertTempFile(tempPath: string, size: number): Promise<void> {
  // lstat, not stat: a symlink moved in would make the "blob" whatever file it points at.
  const info = await lstat(tempPath);
  if (!info.isFile()) throw new Error(`temp path ${tempPath} is not a regular file; refusing to store it`);
  if (info.size !== size) throw new Error(`temp file is ${info.size} bytes, expected ${size}; refusing to store it`);
}

async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createLocalBlobStore({ root }: { root: string }): BlobStore {
  const base = path.resolve(root);
  const pathOf = (sha256: string) => {
    assertSha256(sha256);
    return path.join(base, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  };
  const existing = async (sha256: string) => {
    const file = pathOf(sha256);
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") throw new BlobNotFoundError(sha256);
      throw error;
    });
    return { file, size: info.size };
  };

  // rename(2) cannot cross filesystems, e.g. a temp file in a tmpfs /tmp with the store on a volume:
  // copy it beside the store first so the final step is still one atomic rename.
  async function moveInto(tempPath: string, target: string): Promise<void> {
    await fsyncPath(tempPath);
    await chmod(tempPath, 0o444);
    try {
      await rename(tempPath, target);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    }
    const incoming = path.join(base, ".incoming");
    await mkdir(incoming, { recursive: true, mode: 0o700 });
    const staged = path.join(incoming, randomBytes(12).toString("hex"));
    try {
      await copyFile(tempPath, staged, constants.COPYFILE_EXCL);
      await fsyncPath(staged);
      await chmod(staged, 0o444);
      await rename(staged, target);
    } catch (error) {
      await rm(staged, { force: true });
      await chmod(tempPath, 0o600).catch(() => {});
      throw error;
    }
    await rm(tempPath, { force: true });
  }

  return {
    async putFromTempFile({ tempPath, sha256, size }) {
      const target = pathOf(sha256);
      await assertTempFile(tempPath, size);
      if (await stat(target).catch(() => null)) {
        await rm(tempPath, { force: true });
        return { created: false };
      }
      const dir = path.dirname(target);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await moveInto(tempPath, target);
      await fsyncPath(dir);
      return { created: true };
    },
    async createReadStream(sha256, range) {
      const { file, size } = await existing(sha256);
      if (!range) return fsReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
      const { start, end } = range;
      // A range past the end would give a short body under a Content-Length promising more.
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
        throw new RangeError(`range ${start}-${end} is not inside blob ${sha256} of ${size} bytes`);
      }
      return fsReadStream(file, { start, end, highWaterMark: READ_CHUNK_BYTES });
    },
    async stat(sha256) {
      const info = await stat(pathOf(sha256)).catch(() => null);
      return info ? { size: info.size } : null;
    },
    async delete(sha256) {
      await rm(pathOf(sha256), { force: true });
    },
    async localPath(sha256) {
      return (await existing(sha256)).file;
    },
    async withLocalPath(sha256, work) {
      return work((await existing(sha256)).file);
    },
    async storedFile(sha256) {
      return (await existing(sha256)).file;
    },
    async *list() {
      const entries = async (dir: string) => readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const first of await entries(base)) {
        if (!first.isDirectory() || !/^[0-9a-f]{2}$/.test(first.name)) continue;
        for (const second of await entries(path.join(base, first.name))) {
          if (!second.isDirectory() || !/^[0-9a-f]{2}$/.test(second.name)) continue;
          for (const blob of await entries(path.join(base, first.name, second.name))) {
            // Only names where pathOf() would look, so whatever list() yields, stat() and delete() can reach.
            if (blob.isFile() && SHA256.test(blob.name) && blob.name.startsWith(first.name + second.name))
              yield blob.name;
          }
        }
      }
    },
  };
}
