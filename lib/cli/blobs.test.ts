// `npm run blobs -- migrate|verify` against the real embedded PostgreSQL and a real OpenStack Swift
// (tests/swift.ts). The file has a database of its own, emptied before each test, because verify
// and migrate look at every reference in it; each test has its own data directory and bucket prefix.
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
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
import type { MigrateReport } from "@/lib/blobs/migrate";
import { withStagedDisk } from "@/lib/images/backing";
import { qemuImgInfo } from "@/lib/images/qemu-img";
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

  it("rewrites linked clones that name their base by a local path, and clones of them, so the bucket can read them", async () => {
    const run = promisify(execFile);
    const work = path.join(dataDir, "made");
    await mkdir(work);
    const project = await createTestProject();
    const image = await createTestImage({ projectId: project.id, versions: [] });
    const addVersion = async (values: {
      sha256: string;
      size: number;
      format: "raw" | "qcow2";
      backingVersionId?: string;
    }) => {
      const version = `v${randomBytes(3).toString("hex")}`;
      const { id } = await db().transaction((tx) =>
        createReadyVersion({
          tx,
          actorId: null,
          values: {
            imageId: image.id,
            version,
            virtualSize: 1024 * 1024,
            fileSize: values.size,
            sha512: null,
            source: values.backingVersionId ? "clone" : "upload",
            ...values,
          },
        }),
      );
      return { id, version };
    };
    const store = async (file: string) => {
      const data = await readFile(file);
      return { sha256: await put(localStore(), data), size: data.length };
    };
    // The base, then a clone made before bases were named by sha256: its header names the base's
    // absolute path in this store. Then a clone of that clone, made since (named by sha256).
    const baseFile = path.join(work, "base.raw");
    await writeFile(baseFile, randomBytes(1024 * 1024));
    const base = await store(baseFile);
    const baseVersion = await addVersion({ ...base, format: "raw" });
    const legacyFile = path.join(work, "legacy.qcow2");
    const baseStored = await localStore().storedFile(base.sha256);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", baseStored!, legacyFile]);
    await run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 4096 4096", legacyFile]);
    const legacy = await store(legacyFile);
    const legacyVersion = await addVersion({ ...legacy, format: "qcow2", backingVersionId: baseVersion.id });
    await db().execute(
      sql`update content_scans set status = 'succeeded', os_found = true, distro = 'debian' where sha256 = ${legacy.sha256}`,
    );
    await db().execute(sql`
      insert into content_packages (scan_sha256, name, version, upstream_version, scheme, sort_key)
      values (${legacy.sha256}, 'openssl', '3.0.11-1', '3.0.11', 'deb', '\\x00'::bytea)`);
    await link(legacyFile, path.join(work, legacy.sha256));
    const childFile = path.join(work, "child.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", legacy.sha256, childFile]);
    await run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x6b 8192 4096", childFile]);
    const child = await store(childFile);
    const childVersion = await addVersion({ ...child, format: "qcow2", backingVersionId: legacyVersion.id });
    const expected = path.join(work, "expected.raw");
    await run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", childFile, expected]);

    const migrated = await blobs(["migrate", "--to", "s3", "--json"]);
    expect(migrated.code, migrated.text).toBe(0);
    const report = JSON.parse(migrated.out.join("\n")) as MigrateReport;
    expect(report.failed).toEqual([]);
    const shaOf = async (id: string) =>
      (
        await db().execute<{ sha256: string; sha512: string; file_size: string }>(
          sql`select sha256, sha512, file_size from image_versions where id = ${id}`,
        )
      ).rows[0]!;
    const [legacyNow, childNow] = [await shaOf(legacyVersion.id), await shaOf(childVersion.id)];
    expect(report.rebased).toEqual([
      { from: legacy.sha256, to: legacyNow.sha256, versions: [`${image.slug}@${legacyVersion.version}`] },
      { from: child.sha256, to: childNow.sha256, versions: [`${image.slug}@${childVersion.version}`] },
    ]);
    expect(legacyNow.sha256).not.toBe(legacy.sha256);
    expect(childNow.sha256).not.toBe(child.sha256);
    expect((await shaOf(baseVersion.id)).sha256).toBe(base.sha256);
    // Each version records its new blob's own sha256, sha512 and size; the bytes are in both stores.
    const bucketStore = s3Store();
    for (const now of [legacyNow, childNow]) {
      const bytes = await readFile(await bucketStore.localPath(now.sha256));
      expect(sha(bytes)).toBe(now.sha256);
      expect(createHash("sha512").update(bytes).digest("hex")).toBe(now.sha512);
      expect(Number(now.file_size)).toBe(bytes.length);
      expect(await localStore().stat(now.sha256)).toEqual({ size: bytes.length });
    }
    // Headers name the bases by sha256 alone, down the chain.
    expect(await qemuImgInfo({ path: await bucketStore.localPath(legacyNow.sha256), format: "qcow2" })).toMatchObject({
      "backing-filename": base.sha256,
      "backing-filename-format": "raw",
    });
    expect(await qemuImgInfo({ path: await bucketStore.localPath(childNow.sha256), format: "qcow2" })).toMatchObject({
      "backing-filename": legacyNow.sha256,
      "backing-filename-format": "qcow2",
    });
    // What the guest holds did not change: the scan and its packages moved along.
    const scans = await db().execute<{ distro: string; packages: string }>(sql`
      select s.distro, (select count(*) from content_packages p where p.scan_sha256 = s.sha256) as packages
      from content_scans s where s.sha256 = ${legacyNow.sha256}`);
    expect(scans.rows).toEqual([{ distro: "debian", packages: "1" }]);

    // Hangar on the bucket reads the clone of the clone through its chain: the same disk.
    process.env.HANGAR_BLOB_STORE = "s3";
    const out = path.join(work, "from-bucket.raw");
    await withStagedDisk({ sha256: childNow.sha256, format: "qcow2" }, (staged) =>
      run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", staged.path, out]),
    );
    expect(sha(await readFile(out))).toBe(sha(await readFile(expected)));
    const verified = await blobs(["verify", "--deep", "--json"]);
    expect(verified.code, verified.text).toBe(0);
    expect(JSON.parse(verified.out.join("\n"))).toMatchObject({ missing: [], damaged: [] });
    process.env.HANGAR_BLOB_STORE = "local";
    const again = await blobs(["migrate", "--to", "s3", "--json"]);
    expect(JSON.parse(again.out.join("\n"))).toMatchObject({ rebased: [], failed: [] });
  });

  it("says an overlay that names a file other than its base is not rewritten, and exits 1", async () => {
    const run = promisify(execFile);
    const project = await createTestProject();
    const image = await createTestImage({ projectId: project.id, versions: [] });
    const baseData = randomBytes(4096);
    const baseSha = await put(localStore(), baseData);
    const stray = path.join(dataDir, "stray.raw");
    await writeFile(stray, randomBytes(4096));
    const overlay = path.join(dataDir, "odd.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", stray, overlay]);
    const overlaySha = await put(localStore(), await readFile(overlay));
    const [baseVersion] = await db().transaction(async (tx) => [
      await createReadyVersion({
        tx,
        actorId: null,
        values: {
          imageId: image.id,
          version: "1",
          format: "raw",
          virtualSize: 4096,
          fileSize: 4096,
          sha256: baseSha,
          sha512: null,
          source: "upload",
        },
      }),
    ]);
    const size = (await readFile(overlay)).length;
    await db().transaction((tx) =>
      createReadyVersion({
        tx,
        actorId: null,
        values: {
          imageId: image.id,
          version: "2",
          format: "qcow2",
          virtualSize: 4096,
          fileSize: size,
          sha256: overlaySha,
          sha512: null,
          source: "clone",
          backingVersionId: baseVersion!.id,
        },
      }),
    );
    const result = await blobs(["migrate", "--to", "s3"]);
    expect(result.code, result.text).toBe(1);
    expect(result.text).toContain(`NOT COPIED ${overlaySha}: the overlay of ${image.slug}@2 names "${stray}"`);
    expect(result.text).toContain("flatten it with a full clone first");
  });

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
