// Several processes on one PostgreSQL: real child processes (tests/process-owner.ts) hold an upload
// being finalised, a running conversion, a temp file and a blob write in flight; one is SIGKILLed.
// Another process's sweep ends only the dead one's work and leaves the live one's alone.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { deleteOrphanBlob, insertBlobWrite } from "@/db/queries/blobs";
import { conversions, imageVersions, uploads } from "@/db/schema";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";
import { reconcileStorage } from "@/lib/imports/reconcile";
import { createTempPath, getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique, waitFor } from "@/tests/fixtures";
import { startProcessSweeps } from "./sweep";

const LEASE = 2;
const root = path.resolve(import.meta.dirname, "../..");
const children: ChildProcess[] = [];

interface Owner {
  child: ChildProcess;
  id: string;
  tempPath: string;
  sha256: string;
  versionId: string;
  conversionId: string;
}

let imageId: string;
let userId: string;
let projectId: string;
let readyVersionId: string;

async function startOwner(): Promise<Owner> {
  const [version] = await db()
    .insert(imageVersions)
    .values({ imageId, version: unique("v"), source: "upload", dataStatus: "uploading" })
    .returning({ id: imageVersions.id });
  const uploadId = unique("upload");
  await db()
    .insert(uploads)
    .values({
      id: uploadId,
      userId,
      versionId: version!.id,
      projectId,
      declaredLength: 10,
      expiresAt: new Date(Date.now() + 3600_000),
    });
  const [conversion] = await db()
    .insert(conversions)
    .values({ versionId: readyVersionId, targetFormat: (["raw", "vmdk", "vhdx", "vdi"] as const)[children.length]! })
    .returning({ id: conversions.id });
  // node itself, with tsx as a loader: the tsx command would run the script in a child of its own,
  // which a SIGKILL of the command leaves running.
  const child = spawn(process.execPath, ["--import", "tsx", "tests/process-owner.ts"], {
    cwd: root,
    env: {
      ...process.env,
      OWNER_UPLOAD_ID: uploadId,
      OWNER_VERSION_ID: version!.id,
      OWNER_CONVERSION_ID: conversion!.id,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the owner process exited with ${code}`)));
  });
  return { child, ...JSON.parse(line), versionId: version!.id, conversionId: conversion!.id };
}

const versionOf = async (id: string) => (await db().select().from(imageVersions).where(eq(imageVersions.id, id)))[0]!;
const conversionOf = async (id: string) => (await db().select().from(conversions).where(eq(conversions.id, id)))[0]!;
const uploadStatusOf = async (versionId: string) =>
  (await db().select({ status: uploads.status }).from(uploads).where(eq(uploads.versionId, versionId)))[0]!.status;
const writesOf = async (sha256: string) =>
  (await db().execute(sql`select id from blob_writes where sha256 = ${sha256}`)).rows.length;

beforeAll(async () => {
  const user = await createTestUser();
  userId = user.id;
  projectId = (await createTestProject({ members: [{ viewer: user, role: "member" }] })).id;
  const image = await createTestImage({ projectId });
  imageId = image.id;
  readyVersionId = (await db().select().from(imageVersions).where(eq(imageVersions.imageId, imageId)))[0]!.id;
});

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("work owned by processes", () => {
  it("a process's periodic sweep ends only the work of one SIGKILLed, never a live one's", async () => {
    const [live, dying] = [await startOwner(), await startOwner()];
    expect(existsSync(dying.tempPath)).toBe(true);
    expect(await getBlobStore().stat(dying.sha256)).not.toBeNull();

    dying.child.kill("SIGKILL");
    const sweeps = startProcessSweeps({ leaseSeconds: LEASE, intervalMs: 300 });
    try {
      const failed = await waitFor(
        () => versionOf(dying.versionId),
        (row) => row.dataStatus === "failed",
        20_000,
      );
      expect(failed.failureReason).toMatch(/server stopped .*process or machine died/);
      await waitFor(
        async () => (await conversionOf(dying.conversionId)).status,
        (status) => status === "failed",
        5_000,
      );
      await waitFor(
        () => getBlobStore().stat(dying.sha256),
        (info) => info === null,
        5_000,
      );
      await waitFor(
        async () => existsSync(path.dirname(dying.tempPath)),
        (exists) => !exists,
        5_000,
      );
    } finally {
      await sweeps.stop();
    }
    expect((await conversionOf(dying.conversionId)).failureReason).toMatch(/stopped without finishing/);
    expect(await uploadStatusOf(dying.versionId)).toBe("failed");
    expect(await uploadStatusOf(live.versionId)).toBe("active");
    expect(await writesOf(dying.sha256)).toBe(0);

    // The live owner's work is untouched: still finalising, still converting, its bytes and file there.
    expect((await versionOf(live.versionId)).dataStatus).toBe("importing");
    expect((await conversionOf(live.conversionId)).status).toBe("running");
    expect(await getBlobStore().stat(live.sha256)).not.toBeNull();
    expect(await writesOf(live.sha256)).toBe(1);
    expect(existsSync(live.tempPath)).toBe(true);

    // A process starting now reconciles the same way: it deletes nothing the live one is writing.
    await reconcileStorage({ leaseSeconds: LEASE });
    expect(existsSync(live.tempPath)).toBe(true);
    expect(await getBlobStore().stat(live.sha256)).not.toBeNull();
    expect((await versionOf(live.versionId)).dataStatus).toBe("importing");

    // A clean stop deregisters: what it held is free at once, without waiting out the lease.
    live.child.kill("SIGTERM");
    await new Promise((resolve) => live.child.once("exit", resolve));
    await reconcileStorage({ leaseSeconds: 3600 });
    expect((await versionOf(live.versionId)).dataStatus).toBe("failed");
    expect((await conversionOf(live.conversionId)).status).toBe("failed");
    expect(await getBlobStore().stat(live.sha256)).toBeNull();
    expect(existsSync(live.tempPath)).toBe(false);
  });

  it("an orphan blob's deletion and a write of the same bytes take turns, never interleave", async () => {
    const bytes = Buffer.from(unique("turns"));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const temp = await createTempPath({ root: process.env.HANGAR_DATA_DIR!, prefix: "turns" });
    await writeFile(temp, bytes);
    await getBlobStore().putFromTempFile({ tempPath: temp, sha256, size: bytes.length });
    let release!: () => void;
    const removing = new Promise<void>((resolve) => (release = resolve));
    const deleted = deleteOrphanBlob({
      sha256,
      leaseSeconds: LEASE,
      unownedSeconds: 3600,
      removeBytes: async () => {
        await removing;
        await getBlobStore().delete(sha256);
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    let recorded = false;
    const write = insertBlobWrite({ sha256, processId: null }).then((id) => ((recorded = true), id));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The writer waits while the deletion holds the blob's lock...
    expect(recorded).toBe(false);
    release();
    expect(await deleted).toBe(true);
    await write;
    // ...and once its write is recorded, the same bytes are no orphan for anyone.
    const again = await createTempPath({ root: process.env.HANGAR_DATA_DIR!, prefix: "turns" });
    await writeFile(again, bytes);
    expect((await getBlobStore().putFromTempFile({ tempPath: again, sha256, size: bytes.length })).created).toBe(true);
    expect(
      await deleteOrphanBlob({
        sha256,
        leaseSeconds: LEASE,
        unownedSeconds: 3600,
        removeBytes: () => getBlobStore().delete(sha256),
      }),
    ).toBe(false);
    expect(await getBlobStore().stat(sha256)).not.toBeNull();
  });

  it("a starting process keeps a young loose temp file and a tus file whose session is active", async () => {
    const dataDir = process.env.HANGAR_DATA_DIR!;
    const fresh = await createTempPath({ root: dataDir, prefix: "loose" });
    expect(path.dirname(fresh)).toBe(path.join(dataDir, "tmp"));
    const owner = await startOwner();
    const [active] = await db().select({ id: uploads.id }).from(uploads).where(eq(uploads.versionId, owner.versionId));
    const uploadDir = path.join(dataDir, "uploads");
    await mkdir(uploadDir, { recursive: true });
    await writeFile(path.join(uploadDir, active!.id), "part of an upload");
    await writeFile(path.join(uploadDir, "no-such-session"), "left behind");
    await reconcileStorage({ leaseSeconds: LEASE });
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(path.join(uploadDir, active!.id))).toBe(true);
    expect(existsSync(path.join(uploadDir, "no-such-session"))).toBe(false);
    owner.child.kill("SIGKILL");
  });

  it("a build's or clone's folder left on this machine goes once its row no longer runs", async () => {
    const dataDir = process.env.HANGAR_DATA_DIR!;
    const leftover = path.join(dataDir, "builds", randomUUID());
    const other = path.join(dataDir, "clones", "not-a-clone");
    await mkdir(leftover, { recursive: true });
    await mkdir(other, { recursive: true });
    await sweepStaleBuilds({ log: () => {} });
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it("`npm run worker` registers with its host and pid, beats, and deregisters when stopped", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/worker.ts"], {
      cwd: root,
      env: { ...process.env, HANGAR_WORKER_CONCURRENCY: "1", HANGAR_METRICS_PORT: "" },
      stdio: "ignore",
    });
    children.push(child);
    const rowOf = async () =>
      (
        await db().execute<{ kind: string; host: string; started: Date; beat: Date }>(
          sql`select kind, host, started_at as started, heartbeat_at as beat from processes where pid = ${child.pid}`,
        )
      ).rows[0];
    const registered = await waitFor(rowOf, (row) => row !== undefined, 60_000);
    expect(registered).toMatchObject({ kind: "worker", host: os.hostname() });
    await waitFor(
      rowOf,
      (row) => row !== undefined && new Date(row.beat).getTime() > new Date(row.started).getTime(),
      20_000,
    );
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(await rowOf()).toBeUndefined();
  }, 120_000);
});
