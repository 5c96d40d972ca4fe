// The blob.checksums job against the real blob store, PostgreSQL and pg-boss: its values are those
// of md5sum and sha512sum, it is harmless twice, it fails in words when the file is gone, and the
// outputs of conversions and flattening clones are downloadable before it has run.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { getBlobChecksumFailure, getBlobChecksums } from "@/db/queries/blobs";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { blobs, clones, conversions, imageVersions } from "@/db/schema";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import { runClone } from "@/lib/clones/engine";
import { downloadResponse } from "@/lib/http/download";
import { runConversion } from "@/lib/imports/convert";
import { jobHandlers } from "@/lib/jobs/handlers";
import { JobStopped, startJobRun } from "@/lib/jobs/job-run";
import { closeQueue, jobNames, startWorker, type JobHandlers } from "@/lib/jobs/queue";
import {
  createTestImage,
  createTestProject,
  createTestUser,
  storeTestBlob,
  unique,
  viewerOf,
  waitFor,
} from "@/tests/fixtures";
import { createTestBucket, sharedSwift } from "@/tests/swift";
import { getBlobStore, type S3BlobStore } from "./index";
import { queueBlobChecksums, runBlobChecksums, sweepBlobChecksums } from "./checksums";

const run = promisify(execFile);
let dir: string;
let member: Viewer;
let projectId: string;
let imageId: string;
/** A 16 MiB qcow2 holding 3 MiB of random data after a zeroed first MiB. */
let disk: string;

const digestOf = async (tool: "md5sum" | "sha512sum", file: string) => (await run(tool, [file])).stdout.split(" ")[0]!;

async function blobFile(sha256: string) {
  return getBlobStore().localPath(sha256);
}

/** The blob.checksums jobs waiting (or retrying) for these blobs, as pg-boss holds them. */
async function waitingJobs(keys: string[]) {
  const rows = await db().execute<{ key: string }>(sql`
    select singleton_key as key from pgboss.job
    where name = 'blob.checksums' and state in ('created', 'retry')
      and singleton_key in (${sql.join(
        keys.map((key) => sql`${key}`),
        sql`, `,
      )})`);
  return rows.rows.map((row) => row.key).sort();
}

async function addVersion(values: { sha256: string; sha512: string | null; size: number; format: "qcow2" | "raw" }) {
  return db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: member.id,
      values: {
        imageId,
        version: unique("v"),
        format: values.format,
        virtualSize: 16 * 1024 ** 2,
        fileSize: values.size,
        sha256: values.sha256,
        sha512: values.sha512,
        releaseStatus: "approved",
        source: "upload",
      },
    }),
  );
}

async function downloadedSha256(versionId: string, format?: string): Promise<{ status: number; sha256: string }> {
  const url = `http://hangar.test/api/versions/${versionId}/download${format ? `?format=${format}` : ""}`;
  const response = await downloadResponse({ request: new Request(url), viewer: member, versionId });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, sha256: createHash("sha256").update(body).digest("hex") };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-checksums-"));
  const raw = path.join(dir, "disk.raw");
  await run("sh", [
    "-c",
    `head -c 1048576 /dev/zero > '${raw}' && head -c 3145745 /dev/urandom >> '${raw}' && truncate -s 16M '${raw}'`,
  ]);
  disk = path.join(dir, "disk.qcow2");
  await run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, disk]);
  member = await createTestUser();
  projectId = (await createTestProject({ members: [{ viewer: member, role: "owner" }] })).id;
  member = (await viewerOf(member.id))!;
  imageId = (await createTestImage({ projectId, versions: [] })).id;
});

afterAll(async () => {
  // Jobs this file queued for rows without files must not be left for another file's worker.
  await db().execute(sql`delete from pgboss.job where name = 'blob.checksums' and state in ('created', 'retry')`);
  await closeQueue();
  await rm(dir, { recursive: true, force: true });
});

describe("the blob.checksums job", () => {
  it("fills sha512 and md5 with what sha512sum and md5sum say, and is harmless twice", async () => {
    const stored = await storeTestBlob(disk);
    const version = await addVersion({ sha256: stored.sha256, sha512: null, size: stored.size, format: "qcow2" });
    expect(await getBlobChecksums({ sha256: stored.sha256 })).toMatchObject({
      sha512: null,
      md5: null,
      complete: false,
    });

    await runBlobChecksums({ sha256: stored.sha256 });
    const file = await blobFile(stored.sha256);
    const expected = {
      sha256: stored.sha256,
      sha512: await digestOf("sha512sum", file),
      md5: await digestOf("md5sum", file),
      size: stored.size,
      complete: true,
    };
    expect(await getBlobChecksums({ sha256: stored.sha256 })).toEqual(expected);
    // The version holding the blob gets the sha512 it lacked, as uploads store it on both.
    const [row] = await db()
      .select({ sha512: imageVersions.sha512 })
      .from(imageVersions)
      .where(eq(imageVersions.id, version.id));
    expect(row!.sha512).toBe(expected.sha512);

    await runBlobChecksums({ sha256: stored.sha256 });
    expect(await getBlobChecksums({ sha256: stored.sha256 })).toEqual(expected);
  });

  it("computes only md5 for an upload, whose sha512 is already known", async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 5);
    const file = path.join(dir, "upload.bin");
    await writeFile(file, bytes);
    const stored = await storeTestBlob(file);
    await addVersion({ sha256: stored.sha256, sha512: stored.sha512, size: stored.size, format: "raw" });
    await db().update(blobs).set({ sha512: stored.sha512 }).where(eq(blobs.sha256, stored.sha256));

    await runBlobChecksums({ sha256: stored.sha256 });
    expect(await getBlobChecksums({ sha256: stored.sha256 })).toEqual({
      sha256: stored.sha256,
      sha512: await digestOf("sha512sum", file),
      md5: await digestOf("md5sum", file),
      size: stored.size,
      complete: true,
    });
  });

  it("streams a bucket's blob to the digests, never copying it into the local cache", async () => {
    const saved = { ...process.env };
    const server = await sharedSwift();
    Object.assign(process.env, {
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_ENDPOINT: server.endpoint,
      HANGAR_S3_BUCKET: await createTestBucket(server, "checksums"),
      HANGAR_S3_REGION: server.region,
      HANGAR_S3_ACCESS_KEY_ID: server.accessKeyId,
      HANGAR_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      HANGAR_S3_PREFIX: `checksums-${randomBytes(4).toString("hex")}/`,
    });
    try {
      const stored = await storeTestBlob(disk);
      await db().update(blobs).set({ sha512: null, md5: null }).where(eq(blobs.sha256, stored.sha256));
      await runBlobChecksums({ sha256: stored.sha256 });
      expect(await getBlobChecksums({ sha256: stored.sha256 })).toMatchObject({
        sha512: await digestOf("sha512sum", disk),
        md5: await digestOf("md5sum", disk),
        complete: true,
      });
      expect((getBlobStore() as S3BlobStore).cache.usedBytes()).toBe(0);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it("fails with a reason a person can act on when the blob's file is missing, shown once the worker ran it", async () => {
    const sha256 = randomBytes(32).toString("hex");
    await db()
      .insert(blobs)
      .values({ sha256, sha512: randomBytes(64).toString("hex"), size: 1024 });
    await expect(runBlobChecksums({ sha256 })).rejects.toThrow(
      `The stored file of blob ${sha256} is missing from the blob store, so its md5 can't be computed`,
    );
    expect(await getBlobChecksums({ sha256 })).toMatchObject({ md5: null, complete: false });

    // Through the real queue and worker: the failure is kept where the version page reads it.
    const noop = async () => {};
    const handlers: JobHandlers = {
      ...(Object.fromEntries(jobNames.map((name) => [name, noop])) as unknown as JobHandlers),
      "blob.checksums": jobHandlers["blob.checksums"],
    };
    // Earlier test files (one database for the whole run) leave checksum jobs for blobs they made
    // waiting; a worker would work through all of them first.
    const queued = await db().execute<{ present: boolean }>(
      sql`select to_regclass('pgboss.job') is not null as present`,
    );
    if (queued.rows[0]?.present)
      await db().execute(sql`delete from pgboss.job where name = 'blob.checksums' and state in ('created', 'retry')`);
    const worker = await startWorker({ handlers, concurrency: 1, log: () => {} });
    try {
      await queueBlobChecksums(sha256);
      const reason = await waitFor(
        () => getBlobChecksumFailure({ sha256 }),
        (value) => value !== null,
        30_000,
      );
      expect(reason).toContain("is missing from the blob store");
      expect(reason).toContain("Restore the file from a backup");
    } finally {
      await worker.stop();
    }
  });

  it("ends at its wall-clock limit with the reason, and stores nothing", async () => {
    const stored = await storeTestBlob(disk);
    await db().update(blobs).set({ sha512: null, md5: null }).where(eq(blobs.sha256, stored.sha256));
    const jobRun = startJobRun("blob.checksums", { limitMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    try {
      const failure = await runBlobChecksums({ sha256: stored.sha256 }, { signal: jobRun.signal }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(JobStopped);
      expect((failure as JobStopped).message).toMatch(
        /^Stopped after .*, the checksum computation time limit \(HANGAR_JOB_TIMEOUT\)/,
      );
    } finally {
      jobRun.finish();
    }
    expect(await getBlobChecksums({ sha256: stored.sha256 })).toMatchObject({ sha512: null, md5: null });
  });
});

describe("converted and flattened outputs", () => {
  it("a conversion is downloadable as soon as it succeeded, and gets sha512 and md5 from its queued job", async () => {
    const stored = await storeTestBlob(disk);
    const version = await addVersion({
      sha256: stored.sha256,
      sha512: stored.sha512,
      size: stored.size,
      format: "qcow2",
    });
    const [conversion] = await db()
      .insert(conversions)
      .values({ versionId: version.id, targetFormat: "raw" })
      .returning({ id: conversions.id });
    await runConversion({ conversionId: conversion!.id });
    const [done] = await db().select().from(conversions).where(eq(conversions.id, conversion!.id));
    expect(done).toMatchObject({ status: "succeeded" });
    const output = done!.sha256!;

    expect(await getBlobChecksums({ sha256: output })).toMatchObject({ sha512: null, md5: null, complete: false });
    expect(await waitingJobs([output])).toEqual([output]);
    expect(await downloadedSha256(version.id, "raw")).toEqual({ status: 200, sha256: output });

    await runBlobChecksums({ sha256: output });
    const file = await blobFile(output);
    expect(await getBlobChecksums({ sha256: output })).toMatchObject({
      sha512: await digestOf("sha512sum", file),
      md5: await digestOf("md5sum", file),
      complete: true,
    });
  });

  it("a flattening clone's version is ready and downloadable before its sha512 and md5, which follow", async () => {
    const stored = await storeTestBlob(disk);
    const base = await addVersion({ sha256: stored.sha256, sha512: stored.sha512, size: stored.size, format: "qcow2" });
    const linked = await cloneVersionAction(member, {
      versionId: base.id,
      projectId,
      newImageSlug: unique("linked"),
      newImageName: "Linked",
      version: "1.0",
      mode: "linked",
    });
    if (!linked.ok) throw new Error(linked.message);
    const [linkedClone] = await db().select().from(clones).where(eq(clones.id, linked.data.cloneId));
    await db()
      .update(imageVersions)
      .set({ releaseStatus: "approved" })
      .where(eq(imageVersions.id, linkedClone!.resultVersionId!));

    const full = await cloneVersionAction(member, {
      versionId: linkedClone!.resultVersionId!,
      projectId,
      newImageSlug: unique("flat"),
      newImageName: "Flattened",
      version: "1.0",
      mode: "full",
    });
    if (!full.ok) throw new Error(full.message);
    expect(full.data.queued).toBe(true);
    expect(await runClone({ cloneId: full.data.cloneId })).toEqual({ status: "succeeded" });
    const [fullClone] = await db().select().from(clones).where(eq(clones.id, full.data.cloneId));
    const versionId = fullClone!.resultVersionId!;
    const [version] = await db()
      .select({ sha256: imageVersions.sha256, sha512: imageVersions.sha512, dataStatus: imageVersions.dataStatus })
      .from(imageVersions)
      .where(eq(imageVersions.id, versionId));
    expect(version).toMatchObject({ dataStatus: "ready", sha512: null });
    const output = version!.sha256!;
    expect(await getBlobChecksums({ sha256: output })).toMatchObject({ sha512: null, md5: null, complete: false });
    expect(await waitingJobs([output])).toEqual([output]);
    expect(await downloadedSha256(versionId)).toEqual({ status: 200, sha256: output });

    await runBlobChecksums({ sha256: output });
    const file = await blobFile(output);
    const sha512 = await digestOf("sha512sum", file);
    expect(await getBlobChecksums({ sha256: output })).toMatchObject({
      sha512,
      md5: await digestOf("md5sum", file),
      complete: true,
    });
    const [after] = await db()
      .select({ sha512: imageVersions.sha512 })
      .from(imageVersions)
      .where(eq(imageVersions.id, versionId));
    expect(after!.sha512).toBe(sha512);
  });
});

describe("the start-up sweep", () => {
  it("queues a job for exactly the blobs lacking sha512 or md5, once each however often it runs", async () => {
    const hex = (bytes: number) => randomBytes(bytes).toString("hex");
    const complete = hex(32);
    const noMd5 = hex(32);
    const noSha512 = hex(32);
    const neither = hex(32);
    await db()
      .insert(blobs)
      .values([
        { sha256: complete, sha512: hex(64), md5: hex(16), size: 1 },
        { sha256: noMd5, sha512: hex(64), size: 1 },
        { sha256: noSha512, md5: hex(16), size: 1 },
        { sha256: neither, size: 1 },
      ]);
    const lacking = async () =>
      (
        await db()
          .select({ sha256: blobs.sha256 })
          .from(blobs)
          .where(sql`${blobs.sha512} is null or ${blobs.md5} is null`)
      )
        .map((row) => row.sha256)
        .sort();

    const queued = await sweepBlobChecksums({ log: () => {} });
    expect([...queued].sort()).toEqual(await lacking());
    expect(queued).toEqual(expect.arrayContaining([noMd5, noSha512, neither]));
    expect(queued).not.toContain(complete);
    const mine = [complete, noMd5, noSha512, neither];
    expect(await waitingJobs(mine)).toEqual([noMd5, noSha512, neither].sort());

    await sweepBlobChecksums({ log: () => {} });
    const perKey = await db().execute<{ key: string; jobs: string }>(sql`
      select singleton_key as key, count(*)::text as jobs from pgboss.job
      where name = 'blob.checksums' and state in ('created', 'retry')
        and singleton_key in (${noMd5}, ${noSha512}, ${neither}, ${complete})
      group by singleton_key`);
    expect(Object.fromEntries(perKey.rows.map((row) => [row.key, Number(row.jobs)]))).toEqual({
      [noMd5]: 1,
      [noSha512]: 1,
      [neither]: 1,
    });
    await db().delete(blobs).where(inArray(blobs.sha256, mine));
  });
});
