// Tools such as qemu-img need a file, and a remote blob store has none: this keeps read-only local
// copies, named by sha256, in one folder of at most `maxBytes`. A copy is downloaded under a temp
// name, verified against its sha256 and renamed in, so a path handed out always holds the right
// bytes; callers wanting the same blob at once share one download; the least recently used copies
// are evicted to make room, except those a caller holds (withFile) until it lets go.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { chmod, rename, rm, stat, utimes } from "node:fs/promises";
import path from "node:path";
import { assertSha256 } from "./blob-store";
import { hashFile } from "./hash";

export interface BlobCache {
  /**
   * A local read-only file holding the blob, fetched first if it is not cached. It may be evicted
   * at the next fetch of another blob: a caller that opens it later uses withFile.
   */
  path(sha256: string): Promise<string>;
  /** path(), held against eviction until `work` settles (pins are counted: any number may hold one). */
  withFile<T>(sha256: string, work: (file: string) => Promise<T>): Promise<T>;
  /** Drops the local copy, if any (the blob was deleted from the store). */
  evict(sha256: string): Promise<void>;
  /** Bytes the cached copies take now. */
  usedBytes(): number;
}

export interface BlobCacheOptions {
  dir: string;
  maxBytes: number;
  /** The blob's size, or BlobNotFoundError. */
  sizeOf(sha256: string): Promise<number>;
  /** Writes the blob's bytes to `destination` (a new file). */
  fetch(sha256: string, destination: string): Promise<void>;
  /** The setting that sets maxBytes, named in errors. */
  setting?: string;
}

export class BlobTooLargeForCacheError extends Error {
  constructor(sha256: string, size: number, maxBytes: number, setting: string) {
    super(
      `blob ${sha256} is ${size} bytes, more than the local blob cache holds (${setting}=${maxBytes}); raise ${setting} above its size`,
    );
    this.name = "BlobTooLargeForCacheError";
  }
}

export class BlobCorruptError extends Error {
  constructor(sha256: string, detail: string) {
    super(`blob ${sha256} in the object store is damaged: ${detail}; refusing to use it (restore it from a copy)`);
    this.name = "BlobCorruptError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function createBlobCache({
  dir,
  maxBytes,
  sizeOf,
  fetch,
  setting = "HANGAR_BLOB_CACHE_BYTES",
}: BlobCacheOptions): BlobCache {
  const base = path.resolve(dir);
  const partialDir = path.join(base, ".partial");
  // sha256 -> size and last use; rebuilt from the folder (mtime = last use) at first call.
  let entries: Map<string, { size: number; usedAt: number }> | undefined;
  const inFlight = new Map<string, Promise<string>>();
  const pins = new Map<string, number>();
  let reserved = 0;
  // Uses within one millisecond must still be ordered.
  let lastUse = 0;
  const now = () => (lastUse = Math.max(Date.now(), lastUse + 0.001));

  const fileOf = (sha256: string) => path.join(base, sha256);

  function load() {
    if (entries) return entries;
    mkdirSync(partialDir, { recursive: true, mode: 0o700 });
    // Downloads a process that is gone left unfinished are of no use (names carry the pid).
    for (const name of readdirSync(partialDir)) {
      const pid = Number(name.split("-")[1]);
      if (!Number.isInteger(pid) || pid === process.pid || !isAlive(pid))
        rmSync(path.join(partialDir, name), { force: true });
    }
    entries = new Map();
    for (const name of readdirSync(base)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const info = statSync(path.join(base, name), { throwIfNoEntry: false });
      if (info?.isFile()) entries.set(name, { size: info.size, usedAt: info.mtimeMs });
    }
    return entries;
  }

  const used = () => [...load().values()].reduce((sum, entry) => sum + entry.size, 0);

  async function makeRoom(bytes: number, keep: string) {
    const cached = load();
    const byAge = [...cached.entries()]
      .filter(([sha256]) => sha256 !== keep && !pins.has(sha256))
      .sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [sha256] of byAge) {
      if (used() + reserved + bytes <= maxBytes) return;
      cached.delete(sha256);
      await rm(fileOf(sha256), { force: true });
    }
    if (used() + reserved + bytes > maxBytes) {
      // Only downloads in progress and copies in use hold the space: they finish, and we try again.
      throw new Error(
        `the local blob cache (${setting}=${maxBytes}) is full of blobs other jobs are downloading or using and has no room for ${bytes} more bytes; try again, or raise ${setting}`,
      );
    }
  }

  async function download(sha256: string): Promise<string> {
    const size = await sizeOf(sha256);
    if (size > maxBytes) throw new BlobTooLargeForCacheError(sha256, size, maxBytes, setting);
    await makeRoom(size, sha256);
    reserved += size;
    const partial = path.join(partialDir, `${sha256}-${process.pid}-${randomBytes(8).toString("hex")}`);
    try {
      await fetch(sha256, partial);
      const got = await hashFile(partial);
      if (got.size !== size) throw new BlobCorruptError(sha256, `${got.size} bytes arrived, ${size} expected`);
      if (got.sha256 !== sha256) throw new BlobCorruptError(sha256, `its bytes hash to ${got.sha256}`);
      await chmod(partial, 0o444);
      await rename(partial, fileOf(sha256));
    } finally {
      reserved -= size;
      await rm(partial, { force: true });
    }
    load().set(sha256, { size, usedAt: now() });
    return fileOf(sha256);
  }

  async function localCopy(sha256: string): Promise<string> {
    assertSha256(sha256);
    const cached = load();
    const entry = cached.get(sha256);
    if (entry) {
      const info = await stat(fileOf(sha256)).catch(() => null);
      if (info) {
        entry.usedAt = now();
        // The mtime carries last use across restarts; a failed touch only costs eviction order.
        await utimes(fileOf(sha256), new Date(), new Date()).catch(() => {});
        return fileOf(sha256);
      }
      cached.delete(sha256);
    }
    let pending = inFlight.get(sha256);
    if (!pending) {
      pending = download(sha256).finally(() => inFlight.delete(sha256));
      inFlight.set(sha256, pending);
    }
    return pending;
  }

  return {
    path: localCopy,
    async withFile(sha256, work) {
      assertSha256(sha256);
      // Held before the fetch, so a download that makes room for another can't take it between.
      pins.set(sha256, (pins.get(sha256) ?? 0) + 1);
      try {
        return await work(await localCopy(sha256));
      } finally {
        const left = pins.get(sha256)! - 1;
        if (left === 0) pins.delete(sha256);
        else pins.set(sha256, left);
      }
    },
    async evict(sha256) {
      load().delete(assertSha256(sha256));
      await rm(fileOf(sha256), { force: true });
    },
    usedBytes: used,
  };
}
