// Image bytes are stored once per sha256, under names the server derives from the hash (never the
// user's file name). The interface is small on purpose so an S3-compatible backend can follow
// without touching callers; the local directory backend is the default.
import { createReadStream as fsReadStream } from "node:fs";
import { chmod, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

export interface BlobStore {
  /** Atomically moves a finished temp file in (fsync, rename, fsync dir). Same bytes twice: kept once. */
  putFromTempFile(options: { tempPath: string; sha256: string; size: number }): Promise<{ created: boolean }>;
  /** `range.end` is inclusive, as in HTTP Range. */
  createReadStream(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  stat(sha256: string): Promise<{ size: number } | null>;
  delete(sha256: string): Promise<void>;
  /** A path for tools such as qemu-img that need one; the file must not be modified. */
  localPath(sha256: string): Promise<string>;
  list(): AsyncIterable<string>;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function assertSha256(value: string): string {
  if (!SHA256.test(value)) throw new Error(`not a sha256 digest: ${JSON.stringify(value).slice(0, 80)}`);
  return value;
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

  return {
    async putFromTempFile({ tempPath, sha256, size }) {
      const target = pathOf(sha256);
      const info = await stat(tempPath);
      if (info.size !== size) throw new Error(`temp file is ${info.size} bytes, expected ${size}; refusing to store it`);
      if (await stat(target).catch(() => null)) {
        await rm(tempPath, { force: true });
        return { created: false };
      }
      const dir = path.dirname(target);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await fsyncPath(tempPath);
      await chmod(tempPath, 0o444);
      await rename(tempPath, target);
      await fsyncPath(dir);
      return { created: true };
    },
    async createReadStream(sha256, range) {
      const file = pathOf(sha256);
      await stat(file);
      return fsReadStream(file, range ? { start: range.start, end: range.end } : {});
    },
    async stat(sha256) {
      const info = await stat(pathOf(sha256)).catch(() => null);
      return info ? { size: info.size } : null;
    },
    async delete(sha256) {
      await rm(pathOf(sha256), { force: true });
    },
    async localPath(sha256) {
      const file = pathOf(sha256);
      await stat(file);
      return file;
    },
    async *list() {
      for (const first of await readdir(base).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(first)) continue;
        for (const second of await readdir(path.join(base, first)).catch(() => [] as string[])) {
          for (const name of await readdir(path.join(base, first, second)).catch(() => [] as string[])) {
            if (SHA256.test(name)) yield name;
          }
        }
      }
    },
  };
}
