// The local blob cache on its own, fed from a folder of "remote" blobs by a fetch function that
// counts its calls (and can be told to be slow or to deliver the wrong bytes).
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BlobCorruptError, BlobTooLargeForCacheError, createBlobCache } from "./blob-cache";
import { BlobNotFoundError } from "./blob-store";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function setup({ maxBytes }: { maxBytes: number }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cache-"));
  const remote = path.join(dir, "remote");
  await mkdir(remote);
  const cacheDir = path.join(dir, "cache");
  const fetched: string[] = [];
  const behaviour = { delayMs: 0, corrupt: false };
  const options = {
    dir: cacheDir,
    maxBytes,
    async sizeOf(sha256: string) {
      const info = await stat(path.join(remote, sha256)).catch(() => null);
      if (!info) throw new BlobNotFoundError(sha256);
      return info.size;
    },
    async fetch(sha256: string, destination: string) {
      fetched.push(sha256);
      await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
      if (behaviour.corrupt) {
        const bytes = await readFile(path.join(remote, sha256));
        bytes[0] = bytes[0]! ^ 0xff;
        await writeFile(destination, bytes);
      } else await copyFile(path.join(remote, sha256), destination);
    },
  };
  const add = async (size: number) => {
    const data = randomBytes(size);
    await writeFile(path.join(remote, sha(data)), data);
    return { digest: sha(data), data };
  };
  return { cacheDir, options, cache: createBlobCache(options), add, fetched, behaviour };
}

describe("blob cache", () => {
  it("fetches once, verifies, and hands out a read-only copy", async () => {
    const { cache, add, fetched, cacheDir } = await setup({ maxBytes: 10_000 });
    const { digest, data } = await add(1000);
    const file = await cache.path(digest);
    expect(file).toBe(path.join(cacheDir, digest));
    expect((await readFile(file)).equals(data)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    expect(await cache.path(digest)).toBe(file);
    expect(fetched).toEqual([digest]);
    expect(cache.usedBytes()).toBe(1000);
    await expect(cache.path("0".repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(cache.path("../x")).rejects.toThrow(/not a sha256/);
  });

  it("shares one download between callers asking for the same blob at once", async () => {
    const { cache, add, fetched, behaviour } = await setup({ maxBytes: 10_000 });
    const { digest } = await add(2000);
    behaviour.delayMs = 200;
    const paths = await Promise.all(Array.from({ length: 5 }, () => cache.path(digest)));
    expect(new Set(paths).size).toBe(1);
    expect(fetched).toEqual([digest]);
  });

  it("evicts the least recently used copies to make room, never the one asked for", async () => {
    const { cache, add, fetched, cacheDir } = await setup({ maxBytes: 3000 });
    const a = await add(1000);
    const b = await add(1000);
    const c = await add(1000);
    const d = await add(1500);
    await cache.path(a.digest);
    await cache.path(b.digest);
    await cache.path(c.digest);
    // a is now the most recently used; b and c the oldest.
    await cache.path(a.digest);
    await cache.path(d.digest);
    const left = (await readdir(cacheDir)).filter((name) => !name.startsWith(".")).sort();
    expect(left).toEqual([a.digest, d.digest].sort());
    expect(cache.usedBytes()).toBe(2500);
    expect(fetched).toEqual([a.digest, b.digest, c.digest, d.digest]);
    // An evicted blob comes back by fetching again.
    expect((await readFile(await cache.path(b.digest))).equals(b.data)).toBe(true);
    expect(fetched.length).toBe(5);
  });

  it("never evicts a copy held by withFile: it stays readable under pressure, and can go once let go", async () => {
    const { cache, add, cacheDir, fetched } = await setup({ maxBytes: 2500 });
    const held = await add(1000);
    const other = await add(1000);
    const third = await add(1000);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reachedWork!: () => void;
    const working = new Promise<void>((resolve) => (reachedWork = resolve));
    // A tool that opens the file again only after the cache was asked for other blobs.
    const job = cache.withFile(held.digest, async (file) => {
      reachedWork();
      await released;
      return readFile(file);
    });
    await working;
    // held is the least recently used, and two more blobs don't fit beside it and each other.
    await cache.path(other.digest);
    await cache.path(third.digest);
    expect(existsSync(path.join(cacheDir, held.digest))).toBe(true);
    expect(existsSync(path.join(cacheDir, other.digest))).toBe(false);
    // With only held copies and the one asked for left, a further blob has no room: said in words.
    const nested = cache.withFile(third.digest, async () => {
      const fourth = await add(1000);
      await expect(cache.path(fourth.digest)).rejects.toThrow(
        /full of blobs other jobs are downloading or using and has no room for 1000 more bytes.*HANGAR_BLOB_CACHE_BYTES/,
      );
      return fourth;
    });
    const fourth = await nested;
    release();
    expect((await job).equals(held.data)).toBe(true);
    // Let go: the least recently used again, it makes room for the next blob.
    await cache.path(fourth.digest);
    expect(existsSync(path.join(cacheDir, held.digest))).toBe(false);
    expect(fetched).toEqual([held.digest, other.digest, third.digest, fourth.digest]);
  });

  it("holds a copy a failing withFile had until it failed, then lets it go", async () => {
    const { cache, add, cacheDir } = await setup({ maxBytes: 1500 });
    const a = await add(1000);
    const b = await add(1000);
    await expect(
      cache.withFile(a.digest, async () => {
        await expect(cache.path(b.digest)).rejects.toThrow(/no room/);
        throw new Error("the tool failed");
      }),
    ).rejects.toThrow("the tool failed");
    await cache.path(b.digest);
    expect(existsSync(path.join(cacheDir, a.digest))).toBe(false);
  });

  it("refuses a blob larger than the whole cache, naming the setting", async () => {
    const { cache, add, fetched } = await setup({ maxBytes: 1000 });
    const big = await add(1001);
    const error = await cache.path(big.digest).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BlobTooLargeForCacheError);
    expect(String(error)).toMatch(/1001 bytes.*HANGAR_BLOB_CACHE_BYTES=1000/);
    expect(fetched).toEqual([]);
  });

  it("refuses bytes that don't match the sha256 and keeps nothing of them", async () => {
    const { cache, add, behaviour, cacheDir } = await setup({ maxBytes: 10_000 });
    const { digest, data } = await add(1000);
    behaviour.corrupt = true;
    await expect(cache.path(digest)).rejects.toBeInstanceOf(BlobCorruptError);
    await expect(cache.path(digest)).rejects.toThrow(/damaged: its bytes hash to [0-9a-f]{64}/);
    expect(existsSync(path.join(cacheDir, digest))).toBe(false);
    expect(await readdir(path.join(cacheDir, ".partial"))).toEqual([]);
    expect(cache.usedBytes()).toBe(0);
    behaviour.corrupt = false;
    expect((await readFile(await cache.path(digest))).equals(data)).toBe(true);
  });

  it("keeps its copies across a restart, with their last use, and drops downloads whose process is gone", async () => {
    const { options, cache, add, fetched, cacheDir } = await setup({ maxBytes: 2500 });
    const a = await add(1000);
    const b = await add(1000);
    await cache.path(a.digest);
    await cache.path(b.digest);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.path(a.digest);
    await writeFile(path.join(cacheDir, ".partial", "left-over"), "x");
    await writeFile(path.join(cacheDir, ".partial", `${a.digest}-999999999-abc`), "x");
    // Another live process's download in progress stays (pid 1 is always there).
    const othersDownload = `${b.digest}-1-abc`;
    await writeFile(path.join(cacheDir, ".partial", othersDownload), "x");
    const restarted = createBlobCache(options);
    const c = await add(1000);
    await restarted.path(c.digest);
    expect(fetched).toEqual([a.digest, b.digest, c.digest]);
    // b was used least recently: it made room for c.
    expect(existsSync(path.join(cacheDir, b.digest))).toBe(false);
    expect(existsSync(path.join(cacheDir, a.digest))).toBe(true);
    expect(await readdir(path.join(cacheDir, ".partial"))).toEqual([othersDownload]);
    await restarted.evict(a.digest);
    expect(existsSync(path.join(cacheDir, a.digest))).toBe(false);
    expect(restarted.usedBytes()).toBe(1000);
  });
});
