// The S3 backend against a real OpenStack Swift (tests/swift.ts): what the shared contract in
// blob-store.test.ts does not cover. Bad settings, damaged objects, multipart uploads, and a
// connection cut mid-transfer by a loopback relay in front of the real server.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestBucket, sharedSwift, swiftClient, type SwiftServer } from "@/tests/swift";
import { readEnv } from "@/lib/env";
import { BlobCorruptError } from "./blob-cache";
import { stageDisk } from "@/lib/images/backing";
import { checkBlobStoreReachable, createTempPath, getBlobStore, linkBlob } from "./index";
import { createS3BlobStore, type S3BlobStore } from "./s3-store";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

let server: SwiftServer;
let bucket: string;

beforeAll(async () => {
  server = await sharedSwift();
  bucket = await createTestBucket(server, "s3-store");
});

async function setup(overrides: Partial<Parameters<typeof createS3BlobStore>[0]> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-s3-"));
  const prefix = `t-${randomBytes(6).toString("hex")}/`;
  const store = createS3BlobStore({
    ...server,
    bucket,
    prefix,
    cache: { dir: path.join(dir, "blob-cache"), maxBytes: 1024 ** 3 },
    ...overrides,
  });
  const temp = async (data: Buffer) => {
    const file = await createTempPath({ root: dir, prefix: "test" });
    await writeFile(file, data);
    return file;
  };
  return { dir, prefix, store, temp };
}

async function readAll(stream: NodeJS.ReadableStream) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function unusedPort() {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A loopback TCP relay to Swift standing for an object store that goes away: once `cutAfter` bytes
 * went one way (over all connections), it cuts every connection and refuses new ones.
 */
async function cuttingRelay({ cutAfter, direction }: { cutAfter: number; direction: "up" | "down" }) {
  const target = new URL(server.endpoint);
  const sockets = new Set<net.Socket>();
  let moved = 0;
  const cutAll = () => sockets.forEach((socket) => socket.destroy());
  const relay = net.createServer((client) => {
    if (moved > cutAfter) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", cutAll);
    }
    const count = (chunk: Buffer) => {
      moved += chunk.length;
      if (moved > cutAfter) cutAll();
    };
    (direction === "up" ? client : upstream).on("data", count);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const { port } = relay.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      cutAll();
      return new Promise((resolve) => relay.close(resolve));
    },
  };
}

async function multipartUploadsUnder(prefix: string) {
  const answer = await swiftClient(server).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return answer.Uploads ?? [];
}

describe("S3 blob store against Swift", () => {
  it("uploads a large blob in parts that no reader sees before it is whole", async () => {
    const { store, temp, prefix } = await setup();
    const data = randomBytes(40 * 1024 * 1024);
    const digest = sha(data);
    const tempPath = await temp(data);
    const seen: (number | null)[] = [];
    let done = false;
    const watcher = (async () => {
      while (!done) {
        seen.push((await store.stat(digest))?.size ?? null);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const put = store.putFromTempFile({ tempPath, sha256: digest, size: data.length });
    await expect(put).resolves.toEqual({ created: true });
    done = true;
    await watcher;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((size) => size === null || size === data.length)).toBe(true);
    expect(existsSync(tempPath)).toBe(false);
    expect(await store.stat(digest)).toEqual({ size: data.length });
    expect(await multipartUploadsUnder(prefix)).toEqual([]);
    const range = { start: 16 * 1024 * 1024 - 5, end: 16 * 1024 * 1024 + 5 };
    expect(
      (await readAll(await store.createReadStream(digest, range))).equals(data.subarray(range.start, range.end + 1)),
    ).toBe(true);
    expect(
      createHash("sha256")
        .update(await readFile(await store.localPath(digest)))
        .digest("hex"),
    ).toBe(digest);
  });

  it("names the settings to fix: credentials, bucket, endpoint", async () => {
    const wrongKey = (await setup({ secretAccessKey: "not-the-key" })).store;
    await expect(wrongKey.check()).rejects.toThrow(
      /refused Hangar's credentials.*HANGAR_S3_ACCESS_KEY_ID and HANGAR_S3_SECRET_ACCESS_KEY/,
    );
    const wrongUser = (await setup({ accessKeyId: "test:nobody" })).store;
    await expect(wrongUser.check()).rejects.toThrow(/HANGAR_S3_ACCESS_KEY_ID/);
    const { store: noBucket, temp } = await setup({ bucket: "no-such-bucket-here" });
    await expect(noBucket.check()).rejects.toThrow(/bucket no-such-bucket-here does not exist.*HANGAR_S3_BUCKET/);
    const data = randomBytes(100);
    const tempPath = await temp(data);
    await expect(noBucket.putFromTempFile({ tempPath, sha256: sha(data), size: 100 })).rejects.toThrow(
      /HANGAR_S3_BUCKET/,
    );
    expect(existsSync(tempPath)).toBe(true);
    await expect(noBucket.createReadStream(sha(data))).rejects.toThrow(/HANGAR_S3_BUCKET/);

    const endpoint = `http://127.0.0.1:${await unusedPort()}`;
    const { store: unreachable } = await setup({ endpoint });
    const started = Date.now();
    await expect(unreachable.check()).rejects.toThrow(
      new RegExp(`could not reach the object store at ${endpoint} \\(ECONNREFUSED\\).*HANGAR_S3_ENDPOINT`),
    );
    await expect(unreachable.stat(sha(data))).rejects.toThrow(/HANGAR_S3_ENDPOINT/);
    expect(Date.now() - started).toBeLessThan(15_000);

    const { store: wrongRegion } = await setup({ region: "eu-central-1" });
    await expect(wrongRegion.check()).rejects.toThrow(/HANGAR_S3_REGION/);
    await expect(wrongRegion.stat(sha(data))).rejects.toThrow(/HANGAR_S3_REGION/);
  });

  it("refuses an object whose bytes don't match its sha256 and caches nothing of it", async () => {
    const { store, prefix, dir } = await setup();
    const data = randomBytes(5000);
    const digest = sha(data);
    const damaged = Buffer.from(data);
    damaged[4000] = damaged[4000]! ^ 1;
    await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${digest}`, Body: damaged }));
    await expect(store.localPath(digest)).rejects.toBeInstanceOf(BlobCorruptError);
    await expect(store.localPath(digest)).rejects.toThrow(new RegExp(`blob ${digest} in the object store is damaged`));
    expect((await readdir(path.join(dir, "blob-cache"))).filter((name) => !name.startsWith("."))).toEqual([]);
  });

  it("ends an upload cut off mid-way with an error, keeps the temp file, and shows no object", async () => {
    const relay = await cuttingRelay({ cutAfter: 20 * 1024 * 1024, direction: "up" });
    try {
      const { store, temp, prefix } = await setup({ endpoint: relay.endpoint });
      const data = randomBytes(48 * 1024 * 1024);
      const tempPath = await temp(data);
      await expect(store.putFromTempFile({ tempPath, sha256: sha(data), size: data.length })).rejects.toThrow(
        /HANGAR_S3_ENDPOINT/,
      );
      expect((await readFile(tempPath)).equals(data)).toBe(true);
      const direct = swiftClient(server);
      const listed = await direct.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      expect(listed.KeyCount ?? 0).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it("ends a download cut mid-way with an error, never with a short body", async () => {
    const { store, temp, prefix } = await setup();
    const data = randomBytes(8 * 1024 * 1024);
    await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: data.length });
    const relay = await cuttingRelay({ cutAfter: 3 * 1024 * 1024, direction: "down" });
    try {
      const { store: cut, dir } = await setup({ endpoint: relay.endpoint, prefix });
      await expect(readAll(await cut.createReadStream(sha(data)))).rejects.toThrow();
      await expect(cut.localPath(sha(data))).rejects.toThrow();
      expect((await readdir(path.join(dir, "blob-cache"))).filter((name) => !name.startsWith("."))).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it("refuses a range past the end of the blob", async () => {
    const { store, temp } = await setup();
    const data = randomBytes(100);
    await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: 100 });
    await expect(store.createReadStream(sha(data), { start: 100, end: 120 })).rejects.toThrow(RangeError);
    await expect(store.createReadStream(sha(data), { start: 50, end: 100 })).rejects.toThrow(RangeError);
    expect(
      (await readAll(await store.createReadStream(sha(data), { start: 50, end: 99 }))).equals(data.subarray(50)),
    ).toBe(true);
  });

  it("deletes many objects at once: Swift wants the Content-MD5 the client now adds", async () => {
    const { store, prefix, temp } = await setup();
    const digests: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const data = randomBytes(10);
      digests.push(sha(data));
      await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: 10 });
    }
    const command = () =>
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: digests.map((digest) => ({ Key: store.keyOf(digest) })) },
      });
    // The bare client (no Content-MD5) is refused: the middleware is what makes this work.
    await expect(swiftClient(server).send(command())).rejects.toThrow();
    const answer = await store.client.send(command());
    expect(answer.Errors ?? []).toEqual([]);
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it("lists past one page", async () => {
    const { store, prefix } = await setup({ listPageSize: 10 });
    const digests = Array.from({ length: 25 }, (_, index) => sha(Buffer.from(String(index))));
    for (let index = 0; index < digests.length; index += 8) {
      await Promise.all(
        digests
          .slice(index, index + 8)
          .map((digest) =>
            store.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${digest}`, Body: "x" })),
          ),
      );
    }
    const listed: string[] = [];
    for await (const digest of store.list()) listed.push(digest);
    expect(listed.sort()).toEqual([...digests].sort());
  });
});

describe("S3 settings", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("validates them at start, naming the setting", () => {
    expect(readEnv({}).HANGAR_BLOB_STORE).toBe("local");
    expect(() => readEnv({ HANGAR_BLOB_STORE: "ftp" })).toThrow(/HANGAR_BLOB_STORE is local \(the default\) or s3/);
    expect(() => readEnv({ HANGAR_BLOB_STORE: "s3" })).toThrow(/HANGAR_BLOB_STORE=s3 needs HANGAR_S3_BUCKET/);
    expect(() => readEnv({ HANGAR_BLOB_STORE: "s3", HANGAR_S3_BUCKET: "Bad_Bucket" })).toThrow(
      /HANGAR_S3_BUCKET must be a bucket name/,
    );
    expect(() => readEnv({ HANGAR_S3_ENDPOINT: "s3.example.org" })).toThrow(/HANGAR_S3_ENDPOINT must be an http/);
    expect(() => readEnv({ HANGAR_S3_ACCESS_KEY_ID: "a" })).toThrow(
      /both HANGAR_S3_ACCESS_KEY_ID and HANGAR_S3_SECRET_ACCESS_KEY/,
    );
    expect(() => readEnv({ HANGAR_S3_FORCE_PATH_STYLE: "yes" })).toThrow(/HANGAR_S3_FORCE_PATH_STYLE is true or false/);
    expect(() => readEnv({ HANGAR_S3_PREFIX: "blobs" })).toThrow(
      /HANGAR_S3_PREFIX is empty or folder names ending in \//,
    );
    expect(() => readEnv({ HANGAR_BLOB_CACHE_BYTES: "lots" })).toThrow(/HANGAR_BLOB_CACHE_BYTES is a size/);
    const config = readEnv({ HANGAR_BLOB_STORE: "S3", HANGAR_S3_BUCKET: "hangar", HANGAR_S3_PREFIX: "a/b/" });
    expect(config.HANGAR_S3_FORCE_PATH_STYLE).toBeUndefined();
    expect(readEnv({ HANGAR_S3_FORCE_PATH_STYLE: "false" }).HANGAR_S3_FORCE_PATH_STYLE).toBe(false);
    expect(config).toMatchObject({
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_REGION: "us-east-1",
      HANGAR_S3_PREFIX: "a/b/",
      HANGAR_BLOB_CACHE_BYTES: 20 * 1024 ** 3,
    });
  });

  it("getBlobStore() uses the bucket when HANGAR_BLOB_STORE=s3, with its cache under HANGAR_DATA_DIR", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-data-"));
    Object.assign(process.env, {
      HANGAR_DATA_DIR: dataDir,
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_ENDPOINT: server.endpoint,
      HANGAR_S3_BUCKET: bucket,
      HANGAR_S3_REGION: server.region,
      HANGAR_S3_ACCESS_KEY_ID: server.accessKeyId,
      HANGAR_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      HANGAR_S3_PREFIX: `env-${randomBytes(4).toString("hex")}/`,
    });
    const store = getBlobStore() as S3BlobStore;
    await expect(checkBlobStoreReachable()).resolves.toBe(`bucket ${bucket} at ${server.endpoint} answers`);
    const data = randomBytes(1000);
    const tempPath = await createTempPath({ root: dataDir, prefix: "test" });
    await writeFile(tempPath, data);
    await store.putFromTempFile({ tempPath, sha256: sha(data), size: data.length });
    const head = await swiftClient(server).send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: process.env.HANGAR_S3_PREFIX }),
    );
    expect(head.Contents?.map((object) => object.Key)).toEqual([`${process.env.HANGAR_S3_PREFIX}${sha(data)}`]);
    expect(await store.localPath(sha(data))).toBe(path.join(dataDir, "blob-cache", sha(data)));
    expect(existsSync(path.join(dataDir, "blobs"))).toBe(false);
    process.env.HANGAR_S3_BUCKET = "not-made-yet";
    await expect(checkBlobStoreReachable()).rejects.toThrow(/bucket not-made-yet does not exist.*HANGAR_S3_BUCKET/);
    process.env.HANGAR_BLOB_STORE = "local";
    expect(getBlobStore()).not.toBe(store);
  });
});

describe("handing cached copies to tools", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("links a blob, or a self-contained disk being staged, into the tool's folder, where eviction can't take it", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-data-"));
    Object.assign(process.env, {
      HANGAR_DATA_DIR: dataDir,
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_ENDPOINT: server.endpoint,
      HANGAR_S3_BUCKET: bucket,
      HANGAR_S3_REGION: server.region,
      HANGAR_S3_ACCESS_KEY_ID: server.accessKeyId,
      HANGAR_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      HANGAR_S3_PREFIX: `link-${randomBytes(4).toString("hex")}/`,
      HANGAR_BLOB_CACHE_BYTES: "1M",
    });
    const store = getBlobStore() as S3BlobStore;
    const blobs = [randomBytes(600_000), randomBytes(600_000), randomBytes(600_000)];
    for (const data of blobs) {
      const tempPath = await createTempPath({ root: dataDir, prefix: "test" });
      await writeFile(tempPath, data);
      await store.putFromTempFile({ tempPath, sha256: sha(data), size: data.length });
    }
    const [upload, disk, other] = blobs.map(sha) as [string, string, string];
    const work = path.join(dataDir, "job");
    await mkdir(work);
    const linked = await linkBlob({ sha256: upload, target: path.join(work, "upload") });
    const staged = await stageDisk({ disk: { sha256: disk, format: "raw" }, dir: work });
    expect(path.dirname(staged.path)).toBe(work);
    // Each fetch evicts the other copies (the cache holds one): the tool's links keep their bytes.
    await store.localPath(other);
    expect(existsSync(path.join(dataDir, "blob-cache", upload))).toBe(false);
    expect(existsSync(path.join(dataDir, "blob-cache", disk))).toBe(false);
    expect((await readFile(linked)).equals(blobs[0]!)).toBe(true);
    expect((await readFile(staged.path)).equals(blobs[1]!)).toBe(true);
    // While a caller holds a copy, fetching another that does not fit beside it is refused in words.
    await store.withLocalPath(upload, async (file) => {
      await expect(store.localPath(other)).rejects.toThrow(/no room for 600000 more bytes/);
      expect((await readFile(file)).equals(blobs[0]!)).toBe(true);
    });
  });
});
