// `npm run blobs -- migrate|verify` against the real embedded PostgreSQL and a real OpenStack Swift
// (tests/swift.ts). The file has a database of its own, emptied before each test, because verify
// and migrate look at every reference in it; each test has its own data directory and bucket prefix.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb, db } from "@/db/client";
import { applyMigrations } from "@/db/migrate";
import { createReadyVersion } from "@/db/queries/images";
import { beginBlobWrite } from "@/lib/processes/blob-writes";
import { createLocalBlobStore, createS3BlobStore, createTempPath, type BlobStore } from "@/lib/storage";
import { createTestImage, createTestProject } from "@/tests/fixtures";
import { createTestBucket, sharedSwift, swiftClient, type SwiftServer } from "@/tests/swift";
import { createProgress } from "@/lib/blobs/progress";
import { resolve } from "./blobs";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const root = path.resolve(import.meta.dirname, "../..");

let server: SwiftServer;
let bucket: string;
let outerUrl: string;
let ownUrl: string;
let dataDir: string;
let prefix: string;
const savedEnv = { ...process.env };

async function blobs(argv: string[]) {
  const resolved = resolve(argv);
  if (resolved.kind !== "command")
    return { code: 2, out: [] as string[], err: [resolved.kind === "usage" ? resolved.message : ""] };
  const out: string[] = [];
  const err: string[] = [];
  const code = await resolved.run({
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    progress: { tty: null, line: (line) => err.push(line) },
  });
  return { code, out, err, text: [...out, ...err].join("\n") };
}

const localStore = () => createLocalBlobStore({ root: path.join(dataDir, "blobs") });
const s3Store = () =>
  createS3BlobStore({
    ...server,
    bucket,
    prefix,
    cache: { dir: path.join(dataDir, "blob-cache"), maxBytes: 1024 ** 3 },
  });

async function put(store: BlobStore, data: Buffer): Promise<string> {
  const temp = await createTempPath({ root: dataDir, prefix: "test" });
  await writeFile(temp, data);
  await store.putFromTempFile({ tempPath: temp, sha256: sha(data), size: data.length });
  return sha(data);
}

async function readBack(store: BlobStore, sha256: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of await store.createReadStream(sha256)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A ready version whose blob is `data` (not put anywhere: the caller decides where its bytes are). */
async function versionOf(data: Buffer, sha256 = sha(data)) {
  const project = await createTestProject();
  const image = await createTestImage({ projectId: project.id, versions: [] });
  await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: null,
      values: {
        imageId: image.id,
        version: "1.0",
        format: "raw",
        virtualSize: data.length,
        fileSize: data.length,
        sha256,
        sha512: null,
        source: "upload",
      },
    }),
  );
  return { slug: image.slug, sha256 };
}

async function listS3(): Promise<string[]> {
  const found: string[] = [];
  for await (const name of s3Store().list()) found.push(name);
  return found.sort();
}

beforeAll(async () => {
  server = await sharedSwift();
  bucket = await createTestBucket(server, "blobs-cli");
  outerUrl = process.env.DATABASE_URL!;
  const name = `blobs_cli_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: outerUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(outerUrl);
  url.pathname = `/${name}`;
  ownUrl = url.toString();
  await closeDb();
  process.env.DATABASE_URL = ownUrl;
  await applyMigrations(ownUrl);
}, 120_000);

afterAll(async () => {
  await closeDb();
  process.env = { ...savedEnv, DATABASE_URL: outerUrl };
  const admin = new pg.Client({ connectionString: outerUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${new URL(ownUrl).pathname.slice(1)} with (force)`);
  await admin.end();
});

beforeEach(async () => {
  await db().execute(sql`truncate images, blobs, blob_writes cascade`);
  dataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-blobs-cli-"));
  prefix = `t-${randomBytes(6).toString("hex")}/`;
  Object.assign(process.env, {
    HANGAR_DATA_DIR: dataDir,
    HANGAR_BLOB_STORE: "local",
    HANGAR_S3_ENDPOINT: server.endpoint,
    HANGAR_S3_REGION: server.region,
    HANGAR_S3_BUCKET: bucket,
    HANGAR_S3_PREFIX: prefix,
    HANGAR_S3_ACCESS_KEY_ID: server.accessKeyId,
    HANGAR_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
  });
});

describe("npm run blobs -- migrate", () => {
  it("copies a local store into the bucket and back, each object's sha256 checked, and skips what is there", async () => {
    // One blob above the 16 MiB part size, so it goes up as a multipart upload.
    const large = randomBytes(17 * 1024 * 1024);
    const small = randomBytes(4096);
    const unreferenced = randomBytes(1000);
    for (const data of [large, small, unreferenced]) await put(localStore(), data);
    await versionOf(large);
    await versionOf(small);

    const first = await blobs(["migrate", "--to", "s3"]);
    expect(first.code, first.text).toBe(0);
    expect(first.out[0]).toMatch(
      /^Copied 3 blobs \(17\.0 MiB\) from the local store .* to bucket .*; 0 already there\./,
    );
    expect(first.text).toContain("set HANGAR_BLOB_STORE=s3 on every Hangar process");
    expect(
      first.err.some((line) => /^Pass 1: copying 3\/3 blobs, 17\.0 MiB\/17\.0 MiB, .*\/s, ETA 0:00$/.test(line)),
    ).toBe(true);
    const bucketStore = s3Store();
    expect(await listS3()).toEqual([large, small, unreferenced].map(sha).sort());
    for (const data of [large, small, unreferenced]) expect(await readBack(bucketStore, sha(data))).toBe(sha(data));
    // The source is untouched.
    expect(sha(await readFile(await localStore().localPath(sha(large))))).toBe(sha(large));

    const again = await blobs(["migrate", "--to", "s3", "--json"]);
    expect(again.code, again.text).toBe(0);
    expect(JSON.parse(again.out.join("\n"))).toMatchObject({ copied: 0, alreadyThere: 3, failed: [], missing: [] });

    // Now Hangar runs on the bucket; the local directory goes, and the blobs come back into it.
    process.env.HANGAR_BLOB_STORE = "s3";
    const verified = await blobs(["verify", "--deep", "--json"]);
    expect(verified.code, verified.text).toBe(0);
    expect(JSON.parse(verified.out.join("\n"))).toMatchObject({
      checked: 2,
      missing: [],
      damaged: [],
      orphans: [{ sha256: sha(unreferenced), size: 1000 }],
    });
    await rm(path.join(dataDir, "blobs"), { recursive: true });
    const back = await blobs(["migrate", "--to", "local"]);
    expect(back.code, back.text).toBe(0);
    expect(back.out[0]).toMatch(/^Copied 3 blobs .* from bucket .* to the local store/);
    expect(back.text).toContain("set HANGAR_BLOB_STORE=local on every Hangar process");
    for (const data of [large, small, unreferenced])
      expect(sha(await readFile(await localStore().localPath(sha(data))))).toBe(sha(data));
    expect(await listS3()).toHaveLength(3);
  });

  it("refuses a source object whose bytes don't hash to its name, copies the rest, and exits 1", async () => {
    const good = randomBytes(5000);
    const bad = randomBytes(5000);
    await put(localStore(), good);
    const { sha256: claimed } = await versionOf(bad);
    await versionOf(good);
    // Bytes stored under another blob's name, as a disk error or a person could leave them.
    const file = path.join(dataDir, "blobs", claimed.slice(0, 2), claimed.slice(2, 4), claimed);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, randomBytes(5000));

    const result = await blobs(["migrate", "--to", "s3"]);
    expect(result.code, result.text).toBe(1);
    expect(result.text).toContain(`NOT COPIED ${claimed}: the source's bytes hash to`);
    expect(result.text).toContain("the target is not complete");
    expect(await listS3()).toEqual([sha(good)]);
  });

  it("resumes after the command was killed mid-way and copies only what was left", async () => {
    const count = 40;
    const all: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const data = randomBytes(1024 * 1024);
      all.push(await put(localStore(), data));
      if (index % 2 === 0) await versionOf(data);
    }
    const child = spawn(path.join(root, "node_modules/.bin/tsx"), ["scripts/blobs.ts", "migrate", "--to", "s3"], {
      cwd: root,
      env: { ...process.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<NodeJS.Signals | number | null>((done) =>
      child.once("exit", (code, signal) => done(signal ?? code)),
    );
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/Pass 1: copying [1-9]\d*\/40 blobs/.test(stderr)) child.kill("SIGKILL");
    });
    expect(await exited, stderr).toBe("SIGKILL");
    const copiedBefore = (await listS3()).length;
    expect(copiedBefore, stderr).toBeGreaterThan(0);
    expect(copiedBefore).toBeLessThan(count);

    const resumed = await blobs(["migrate", "--to", "s3", "--json"]);
    expect(resumed.code, resumed.text).toBe(0);
    const report = JSON.parse(resumed.out.join("\n"));
    // A put the server had fully received when the command died may still land after the kill:
    // S3 puts are whole or nothing, so it counts as there (and verify --deep below hashes it).
    expect(report.failed).toEqual([]);
    expect(report.alreadyThere).toBeGreaterThanOrEqual(copiedBefore);
    expect(report.alreadyThere + report.copied).toBe(count);
    expect(report.copied).toBeLessThan(count);
    expect(await listS3()).toEqual([...all].sort());
    const bucketStore = s3Store();
    for (const sha256 of all) expect((await bucketStore.stat(sha256))?.size).toBe(1024 * 1024);
    process.env.HANGAR_BLOB_STORE = "s3";
    const verified = await blobs(["verify", "--deep", "--json"]);
    expect(verified.code, verified.text).toBe(0);
    expect(JSON.parse(verified.out.join("\n"))).toMatchObject({ checked: count / 2, missing: [], damaged: [] });
  }, 180_000);

  it("says which setting to fix when a store can't be used, and what the command expects", async () => {
    delete process.env.HANGAR_S3_BUCKET;
    const noBucket = await blobs(["migrate", "--to", "s3"]);
    expect(noBucket.code).toBe(2);
    expect(noBucket.text).toMatch(/The target \(bucket undefined.*\) can't be used: .*HANGAR_S3_BUCKET/);

    process.env.HANGAR_S3_BUCKET = bucket;
    process.env.HANGAR_S3_SECRET_ACCESS_KEY = "wrong";
    const wrongKey = await blobs(["migrate", "--to", "s3"]);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.text).toMatch(/can't be used: .*refused Hangar's credentials.*HANGAR_S3_SECRET_ACCESS_KEY/);

    process.env.HANGAR_S3_SECRET_ACCESS_KEY = server.secretAccessKey;
    process.env.HANGAR_S3_BUCKET = "no-such-bucket-here";
    const fromBucket = await blobs(["migrate", "--to", "local"]);
    expect(fromBucket.code).toBe(2);
    expect(fromBucket.text).toMatch(/The source .* can't be used: bucket no-such-bucket-here does not exist/);

    expect((await blobs(["migrate"])).err[0]).toMatch(/^Say where the blobs go: --to s3 or --to local/);
    expect((await blobs(["migrate", "--to", "ftp"])).err[0]).toMatch(/^“ftp” is not a store/);
    expect((await blobs(["migrate", "--to", "s3", "--fast"])).code).toBe(2);
    expect((await blobs(["copy"])).err[0]).toMatch(/^Unknown command “copy”/);
    expect(resolve([]).kind).toBe("help");
  });
});

describe("npm run blobs -- verify", () => {
  it("finds a missing blob, a damaged one only with --deep, and orphans but not writes in flight", async () => {
    process.env.HANGAR_BLOB_STORE = "s3";
    const store = s3Store();
    const kept = randomBytes(3000);
    const damaged = randomBytes(3000);
    const gone = randomBytes(3000);
    const orphan = randomBytes(10);
    const writing = randomBytes(20);
    for (const data of [kept, damaged, orphan, writing]) await put(store, data);
    const keptVersion = await versionOf(kept);
    const damagedVersion = await versionOf(damaged);
    const goneVersion = await versionOf(gone);
    const write = await beginBlobWrite(sha(writing));
    // Same size, other bytes: only re-hashing tells.
    await swiftClient(server).send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${sha(damaged)}`, Body: randomBytes(3000) }),
    );

    const shallow = await blobs(["verify"]);
    expect(shallow.code, shallow.text).toBe(1);
    expect(shallow.text).toContain(`MISSING ${sha(gone)} (version ${goneVersion.slug}@1.0)`);
    expect(shallow.text).not.toContain("DAMAGED");
    expect(shallow.text).toContain(`ORPHAN  ${sha(orphan)} (10 B): nothing refers to it`);
    expect(shallow.text).not.toContain(sha(writing));
    expect(shallow.text).toContain("1 missing, 0 damaged, 1 orphan, 1 being written now (not orphans).");

    const deep = await blobs(["verify", "--deep", "--json"]);
    expect(deep.code, deep.text).toBe(1);
    const report = JSON.parse(deep.out.join("\n"));
    expect(report).toMatchObject({
      deep: true,
      checked: 3,
      missing: [{ sha256: sha(gone), referrers: [`version ${goneVersion.slug}@1.0`] }],
      damaged: [{ sha256: sha(damaged), referrers: [`version ${damagedVersion.slug}@1.0`] }],
      orphans: [{ sha256: sha(orphan) }],
      inFlight: 1,
    });
    expect(report.damaged[0].problem).toMatch(/^its bytes hash to [0-9a-f]{64}$/);
    expect(JSON.stringify(report)).not.toContain(keptVersion.slug);

    await write.end();
    const after = await blobs(["verify", "--json"]);
    expect(
      JSON.parse(after.out.join("\n"))
        .orphans.map((entry: { sha256: string }) => entry.sha256)
        .sort(),
    ).toEqual([sha(orphan), sha(writing)].sort());
  });

  it("checks the local store too and exits 0 when every blob is there", async () => {
    const data = randomBytes(2048);
    await put(localStore(), data);
    await versionOf(data);
    const result = await blobs(["verify", "--deep"]);
    expect(result.code, result.text).toBe(0);
    expect(result.out[0]).toMatch(/^Checked 1 referenced blob \(2\.0 KiB\) in the local store .*, re-hashing each\.$/);
    expect(result.text).toContain("0 missing, 0 damaged, 0 orphans.");
  });
});

describe("the progress bar", () => {
  it("redraws one line in place on a terminal, with blobs, bytes, rate and time left", () => {
    let clock = 0;
    const writes: string[] = [];
    const lines: string[] = [];
    const progress = createProgress({
      verb: "Copying",
      blobs: 4,
      bytes: 4 * 1024 ** 2,
      sink: { tty: { write: (text) => writes.push(text), columns: 200 }, line: (line) => lines.push(line) },
      now: () => clock,
    });
    clock = 1000;
    progress.advance(1024 ** 2, true);
    clock = 2000;
    progress.advance(1024 ** 2, true);
    progress.finish();
    expect(lines).toEqual([]);
    expect(writes[0]).toBe(
      "\r" + "Copying [######------------------] 25% 1/4 blobs, 1.0 MiB/4.0 MiB, 1.0 MiB/s, ETA 0:03\x1b[K",
    );
    expect(writes.at(-2)).toContain("[############------------] 50% 2/4 blobs, 2.0 MiB/4.0 MiB, 1.0 MiB/s, ETA 0:02");
    expect(writes.at(-1)).toBe("\n");
  });
});
