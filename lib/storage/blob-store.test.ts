import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { createTestBucket, sharedSwift } from "@/tests/swift";
import { BlobNotFoundError, createLocalBlobStore, type BlobStore } from "./blob-store";
import { createTempPath, getBlobStore, tempDir } from "./index";
import { createS3BlobStore } from "./s3-store";

// The same contract for every backend; what differs is where localPath() puts a file and how a
// stray that is not a blob gets into the store.
interface Backend {
  store: BlobStore;
  expectedLocalPath(sha256: string): string;
  addStrays(): Promise<void>;
}

const backends: Record<string, (dir: string) => Promise<Backend>> = {
  async local(dir) {
    const root = path.join(dir, "blobs");
    return {
      store: createLocalBlobStore({ root }),
      expectedLocalPath: (digest) => path.join(root, digest.slice(0, 2), digest.slice(2, 4), digest),
      // Strays a crash or a person could leave: none of them is a blob stat() or delete() would find.
      async addStrays() {
        const misplaced = "f".repeat(64);
        await mkdir(path.join(root, "00", "00"), { recursive: true });
        await writeFile(path.join(root, "00", "00", misplaced), "");
        await writeFile(path.join(root, "00", "00", "notes.txt"), "");
        await mkdir(path.join(root, ".incoming"), { recursive: true });
        await writeFile(path.join(root, ".incoming", "a".repeat(64)), "");
      },
    };
  },
  async s3(dir) {
    const server = await sharedSwift();
    s3Bucket ??= createTestBucket(server, "contract");
    const bucket = await s3Bucket;
    // Each test gets its own prefix in the file's bucket, so it starts from an empty store.
    const prefix = `t-${randomBytes(6).toString("hex")}/`;
    const cacheDir = path.join(dir, "blob-cache");
    const store = createS3BlobStore({
      ...server,
      bucket,
      prefix,
      cache: { dir: cacheDir, maxBytes: 1024 ** 3 },
    });
    return {
      store,
      expectedLocalPath: (digest) => path.join(cacheDir, digest),
      // Objects under the prefix that keyOf() would never name, and a blob under another prefix.
      async addStrays() {
        for (const Key of [
          `${prefix}00/00/${"f".repeat(64)}`,
          `${prefix}notes.txt`,
          `${prefix}.incoming/${"a".repeat(64)}`,
          `${prefix}${"A".repeat(64)}`,
          `other-${prefix}${"b".repeat(64)}`,
        ])
          await store.client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: "stray" }));
      },
    };
  },
};
let s3Bucket: Promise<string> | undefined;

async function setup(backend: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-blobs-"));
  const { store, expectedLocalPath, addStrays } = await backends[backend]!(dir);
  const temp = async (data: Buffer) => {
    const file = await createTempPath({ root: dir, prefix: "test" });
    await writeFile(file, data);
    return file;
  };
  return { dir, store, temp, expectedLocalPath, addStrays };
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function readAll(stream: NodeJS.ReadableStream) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(store: { list(): AsyncIterable<string> }) {
  const listed: string[] = [];
  for await (const entry of store.list()) listed.push(entry);
  return listed.sort();
}

describe.each(Object.keys(backends))("%s blob store", (backend) => {
  it("stores by sha256, reads whole and by inclusive range, and deletes", async () => {
    const { store, temp, expectedLocalPath } = await setup(backend);
    const data = randomBytes(100_000);
    const digest = sha(data);
    const tempPath = await temp(data);
    expect(await store.putFromTempFile({ tempPath, sha256: digest, size: data.length })).toEqual({ created: true });
    expect(existsSync(tempPath)).toBe(false);
    expect(await store.stat(digest)).toEqual({ size: data.length });
    expect((await readAll(await store.createReadStream(digest))).equals(data)).toBe(true);
    expect(
      (await readAll(await store.createReadStream(digest, { start: 10, end: 19 }))).equals(data.subarray(10, 20)),
    ).toBe(true);
    expect(
      (await readAll(await store.createReadStream(digest, { start: 0, end: 0 }))).equals(data.subarray(0, 1)),
    ).toBe(true);
    const lastByte = { start: data.length - 1, end: data.length - 1 };
    expect((await readAll(await store.createReadStream(digest, lastByte))).equals(data.subarray(-1))).toBe(true);

    const local = await store.localPath(digest);
    expect(local).toBe(expectedLocalPath(digest));
    expect((await stat(local)).mode & 0o777).toBe(0o444);
    expect((await readFile(local)).equals(data)).toBe(true);
    // Downloads send the stored file itself only where the store keeps it on this machine.
    expect(await store.storedFile(digest)).toBe(backend === "local" ? local : null);
    expect(await store.withLocalPath(digest, async (file) => (await readFile(file)).equals(data))).toBe(true);

    await store.delete(digest);
    expect(await store.stat(digest)).toBeNull();
    await expect(store.localPath(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.withLocalPath(digest, async () => "used")).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.createReadStream(digest)).rejects.toThrow(/is not in the store/);
    await expect(store.delete(digest)).resolves.toBeUndefined();
  });

  it("refuses ranges outside the blob instead of returning a short body", async () => {
    const { store, temp } = await setup(backend);
    const data = randomBytes(100);
    await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: 100 });
    for (const range of [
      { start: 0, end: 100 },
      { start: 5, end: 4 },
      { start: -1, end: 3 },
      { start: 0.5, end: 3 },
    ]) {
      await expect(store.createReadStream(sha(data), range)).rejects.toThrow(RangeError);
    }
  });

  it("keeps the same bytes once and removes the second temp file", async () => {
    const { store, temp } = await setup(backend);
    const data = randomBytes(1000);
    expect(await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: data.length })).toEqual({
      created: true,
    });
    const second = await temp(data);
    expect(await store.putFromTempFile({ tempPath: second, sha256: sha(data), size: data.length })).toEqual({
      created: false,
    });
    expect(existsSync(second)).toBe(false);
    expect(await listAll(store)).toEqual([sha(data)]);
  });

  it("refuses a size mismatch and leaves the temp file alone", async () => {
    const { store, temp } = await setup(backend);
    const data = randomBytes(1000);
    const tempPath = await temp(data);
    await expect(store.putFromTempFile({ tempPath, sha256: sha(data), size: 999 })).rejects.toThrow(
      /1000 bytes, expected 999/,
    );
    expect((await readFile(tempPath)).equals(data)).toBe(true);
    expect((await stat(tempPath)).mode & 0o777).toBe(0o600);
    expect(await store.stat(sha(data))).toBeNull();
  });

  it("refuses a temp path that is a symlink, so no other file can be pulled into the store", async () => {
    const { dir, store } = await setup(backend);
    const secret = path.join(dir, "secret");
    await writeFile(secret, "not an image", { mode: 0o600 });
    const link = path.join(dir, "link");
    await symlink(secret, link);
    const size = (await stat(secret)).size;
    await expect(store.putFromTempFile({ tempPath: link, sha256: sha(await readFile(secret)), size })).rejects.toThrow(
      /not a regular file/,
    );
    expect((await stat(secret)).mode & 0o777).toBe(0o600);
    expect(await listAll(store)).toEqual([]);
  });

  it.each([
    "../../etc/passwd",
    "A".repeat(64),
    "abc",
    `${"a".repeat(63)}/`,
    `${"a".repeat(64)}\n`,
    `../${"a".repeat(61)}`,
    "",
  ])("refuses %j as a blob name everywhere", async (bad) => {
    const { store, temp } = await setup(backend);
    const tempPath = await temp(Buffer.from("x"));
    await expect(store.stat(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.createReadStream(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.localPath(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.withLocalPath(bad, async () => "used")).rejects.toThrow(/not a sha256/);
    await expect(store.delete(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.putFromTempFile({ tempPath, sha256: bad, size: 1 })).rejects.toThrow(/not a sha256/);
    expect(existsSync(tempPath)).toBe(true);
  });

  it("lists every stored blob and nothing else", async () => {
    const { store, temp, addStrays } = await setup(backend);
    expect(await listAll(store)).toEqual([]);
    const digests: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const data = randomBytes(64);
      digests.push(sha(data));
      await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: data.length });
    }
    await addStrays();
    expect(await listAll(store)).toEqual(digests.sort());
  });

  // /dev/shm is a tmpfs on Linux: a temp file there cannot be renamed into a store on disk.
  const crossDevice = existsSync("/dev/shm");
  it.skipIf(!crossDevice)("moves a temp file in from another filesystem", async () => {
    const { store } = await setup(backend);
    const shm = await mkdtemp("/dev/shm/hangar-");
    try {
      const data = randomBytes(50_000);
      const tempPath = path.join(shm, "upload");
      await writeFile(tempPath, data, { mode: 0o600 });
      expect(await store.putFromTempFile({ tempPath, sha256: sha(data), size: data.length })).toEqual({
        created: true,
      });
      expect(existsSync(tempPath)).toBe(false);
      const local = await store.localPath(sha(data));
      expect((await readFile(local)).equals(data)).toBe(true);
      expect((await stat(local)).mode & 0o777).toBe(0o444);
      expect(await listAll(store)).toEqual([sha(data)]);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});

describe("createTempPath", () => {
  it("makes a fresh private file under <root>/tmp", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "hangar-data-"));
    const first = await createTempPath({ root, prefix: "upload" });
    const second = await createTempPath({ root, prefix: "upload" });
    expect(first).not.toBe(second);
    expect(path.dirname(first)).toBe(tempDir(root));
    expect(tempDir(root)).toBe(path.join(root, "tmp"));
    expect(path.basename(first)).toMatch(/^upload-[0-9a-f]{24}$/);
    const info = await stat(first);
    expect(info.isFile()).toBe(true);
    expect(info.size).toBe(0);
    expect(info.mode & 0o777).toBe(0o600);
    expect((await stat(tempDir(root))).mode & 0o777).toBe(0o700);
  });

  it("refuses a prefix that could name another folder", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "hangar-data-"));
    for (const prefix of ["../x", "a/b", "", "UP"]) {
      await expect(createTempPath({ root, prefix })).rejects.toThrow(/prefix/);
    }
    expect(existsSync(tempDir(root))).toBe(false);
  });
});

describe("getBlobStore", () => {
  const original = process.env.HANGAR_DATA_DIR;
  afterEach(() => {
    if (original === undefined) delete process.env.HANGAR_DATA_DIR;
    else process.env.HANGAR_DATA_DIR = original;
  });

  it("stores under <HANGAR_DATA_DIR>/blobs, made absolute", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-data-"));
    process.env.HANGAR_DATA_DIR = path.relative(process.cwd(), dataDir);
    const data = randomBytes(10);
    const tempPath = await createTempPath({ root: dataDir, prefix: "test" });
    await writeFile(tempPath, data);
    await getBlobStore().putFromTempFile({ tempPath, sha256: sha(data), size: data.length });
    const local = await getBlobStore().localPath(sha(data));
    expect(path.isAbsolute(local)).toBe(true);
    expect(local.startsWith(path.join(dataDir, "blobs") + path.sep)).toBe(true);
  });
});
