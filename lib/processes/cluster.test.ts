// Two workers as two machines would run them (tests/cluster.ts): separate OS processes, each with
// its own scratch folder, sharing only one PostgreSQL and one bucket in a real Swift. This test
// process plays the web process (it calls the same actions a web process runs). Builds and clones
// land on each worker and reach the bucket before their version is ready; a worker SIGKILLed
// mid-build has its build ended failed by the other worker's sweep, with nothing duplicated and no
// object left in the bucket that nothing refers to, and the survivor goes on taking work.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { closeDb, db } from "@/db/client";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { builds, clones, images, imageVersions } from "@/db/schema";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import { saveRecipeAction, startBuildAction } from "@/lib/actions/recipe-actions";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { closeQueue } from "@/lib/jobs/queue";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { startCluster, type Cluster, type ClusterProcess } from "@/tests/cluster";
import {
  createTestImage,
  createTestProject,
  createTestUser,
  storeTestBlob,
  unique,
  viewerOf,
  waitFor,
} from "@/tests/fixtures";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { swiftClient } from "@/tests/swift";

let cluster: Cluster;
let first: ClusterProcess;
let second: ClusterProcess;
let member: Viewer;
let projectId: string;
let baseSlug: string;
let baseSha256: string;
let outputSlug: string;
/** A linked clone of the base: flattening it (a full clone) is a queued job without a guest. */
let linkedVersionId: string;
let linkedSha256: string;
let webDataDir = "";

const buildRow = async (id: string) => (await db().select().from(builds).where(eq(builds.id, id)))[0]!;
const cloneRow = async (id: string) => (await db().select().from(clones).where(eq(clones.id, id)))[0]!;
const versionRow = async (id: string) => (await db().select().from(imageVersions).where(eq(imageVersions.id, id)))[0]!;
const cached = (worker: ClusterProcess, sha256: string) => existsSync(path.join(worker.dataDir, "blob-cache", sha256));

async function inBucket(sha256: string): Promise<boolean> {
  const client = swiftClient(cluster.swift);
  try {
    await client.send(new HeadObjectCommand({ Bucket: cluster.bucket, Key: `${cluster.prefix}${sha256}` }));
    return true;
  } catch (error) {
    if ((error as Error).name === "NotFound") return false;
    throw error;
  } finally {
    client.destroy();
  }
}

async function startBuild(content: string): Promise<string> {
  const document: RecipeDocument = {
    name: unique("recipe"),
    description: "",
    base: { image: baseSlug, version: "1.0" },
    steps: [{ type: "write", path: "/etc/cluster", content }],
    output: { image: outputSlug, format: "qcow2" },
  };
  const saved = await saveRecipeAction(member, { projectId, document });
  if (!saved.ok) throw new Error(saved.message);
  const started = await startBuildAction(member, { recipeId: saved.data.recipeId });
  if (!started.ok || !started.data.queued) throw new Error(started.ok ? "expected a new build" : started.message);
  return started.data.buildId;
}

/** Waits for the build to end; the moment its version reads ready, its blob must already be in the bucket. */
async function finishedBuild(id: string) {
  const done = await waitFor(
    () => buildRow(id),
    (row) => row.status !== "queued" && row.status !== "running",
    300_000,
  );
  expect(done.failureReason).toBeNull();
  expect(done.status).toBe("succeeded");
  const version = await versionRow(done.outputVersionId!);
  expect(version.dataStatus).toBe("ready");
  expect(await inBucket(version.sha256!)).toBe(true);
  return { build: done, version };
}

async function cloneOn(worker: ClusterProcess, other: ClusterProcess, version: string) {
  // The other worker is paused (SIGSTOP) before the job exists, so it can neither claim nor lock it.
  other.signal("SIGSTOP");
  try {
    const requested = await cloneVersionAction(member, {
      versionId: linkedVersionId,
      projectId,
      newImageSlug: unique("flattened"),
      version,
      mode: "full",
    });
    if (!requested.ok) throw new Error(requested.message);
    expect(requested.data.queued).toBe(true);
    const done = await waitFor(
      () => cloneRow(requested.data.cloneId),
      (row) => row.status === "succeeded" || row.status === "failed",
      120_000,
    );
    expect(done.failureReason).toBeNull();
    return done;
  } finally {
    other.signal("SIGCONT");
  }
}

beforeAll(async () => {
  // A PostgreSQL of the cluster's own: its queue holds only this test's jobs.
  cluster = await startCluster({ workers: 2, env: { HANGAR_BUILD_STALE_SECONDS: "10" } });
  [first, second] = cluster.processes as [ClusterProcess, ClusterProcess];
  // This process is the web process: the same database and bucket, a scratch folder of its own.
  const { DATABASE_URL, HANGAR_DATA_DIR: _ignored, ...blobSettings } = cluster.env;
  webDataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-cluster-web-"));
  Object.assign(process.env, blobSettings, { DATABASE_URL, HANGAR_DATA_DIR: webDataDir });
  const user = await createTestUser();
  projectId = (await createTestProject({ members: [{ viewer: user, role: "member" }] })).id;
  member = (await viewerOf(user.id))!;
  const guest = await buildTinyGuest({
    dir: path.join(process.env.HANGAR_DATA_DIR!, "guest"),
    name: "cluster-base",
    sizeMiB: 32,
    formats: ["qcow2"],
  });
  const hashes = await storeTestBlob(guest.qcow2!);
  baseSha256 = hashes.sha256;
  const base = await createTestImage({ projectId, versions: [] });
  const baseVersionId = await db().transaction(async (tx) => {
    const created = await createReadyVersion({
      tx,
      actorId: null,
      values: {
        imageId: base.id,
        version: "1.0",
        format: "qcow2",
        virtualSize: 32 * 1024 ** 2,
        fileSize: hashes.size,
        sha256: hashes.sha256,
        sha512: hashes.sha512,
        releaseStatus: "approved",
        source: "upload",
      },
    });
    return created.id;
  });
  baseSlug = base.slug;
  outputSlug = (await createTestImage({ projectId, versions: [] })).slug;
  const linkedSlug = unique("linked");
  const linked = await cloneVersionAction(member, {
    versionId: baseVersionId,
    projectId,
    newImageSlug: linkedSlug,
    version: "1.0",
    mode: "linked",
  });
  if (!linked.ok) throw new Error(linked.message);
  const [image] = await db().select({ id: images.id }).from(images).where(eq(images.slug, linkedSlug));
  const [version] = await db()
    .update(imageVersions)
    .set({ releaseStatus: "approved" })
    .where(eq(imageVersions.imageId, image!.id))
    .returning({ id: imageVersions.id, sha256: imageVersions.sha256 });
  linkedVersionId = version!.id;
  linkedSha256 = version!.sha256!;
}, 300_000);

afterAll(async () => {
  // This process's clients go before the database the cluster started does.
  await closeQueue();
  await closeDb();
  await cluster?.stop();
  await rm(webDataDir, { recursive: true, force: true });
});

describe("two workers on one PostgreSQL and one bucket", () => {
  it("each takes a clone and a build; what they make is in the bucket before it is ready", async () => {
    onTestFailed(async () => console.error(await cluster.logTails()));
    // A flattening clone on each: the worker fetches the overlay and its base into its own cache.
    expect(cached(first, linkedSha256) || cached(second, linkedSha256)).toBe(false);
    const onFirst = await cloneOn(first, second, "flat-1");
    expect(cached(first, linkedSha256) && cached(first, baseSha256)).toBe(true);
    expect(cached(second, linkedSha256)).toBe(false);
    const onSecond = await cloneOn(second, first, "flat-2");
    expect(cached(second, linkedSha256) && cached(second, baseSha256)).toBe(true);
    for (const done of [onFirst, onSecond]) {
      const version = await versionRow(done.resultVersionId!);
      expect(version).toMatchObject({ dataStatus: "ready", format: "qcow2" });
      expect(await inBucket(version.sha256!)).toBe(true);
    }

    // Two builds queued together: each worker runs one build at a time, so each takes one.
    const ids = [await startBuild("one\n"), await startBuild("two\n")];
    const done = await Promise.all(ids.map(finishedBuild));
    expect(new Set(done.map(({ build }) => build.workerPid))).toEqual(new Set([first.pid, second.pid]));
  }, 600_000);

  it("a worker SIGKILLed mid-build: the other's sweep ends it failed, nothing duplicated or orphaned, and the survivor builds on", async () => {
    onTestFailed(async () => console.error(await cluster.logTails()));
    const killedId = await startBuild("never\n");
    const running = await waitFor(
      () => buildRow(killedId),
      (row) => row.status === "running" && row.processGroup !== null,
      180_000,
    );
    await waitFor(
      () => Promise.resolve(liveProcessesInGroup(running.processGroup!)),
      (live) => live.some((line) => line.includes("virt-customize")),
      60_000,
    );
    const [victim, survivor] = running.workerPid === first.pid ? [first, second] : [second, first];
    expect(running.workerPid).toBe(victim.pid);
    await victim.kill();
    // New work right away: only the survivor can take it, while its sweep ends the lost build.
    const nextId = await startBuild("after the kill\n");

    const failed = await waitFor(
      () => buildRow(killedId),
      (row) => row.status !== "running",
      120_000,
    );
    expect(failed.status).toBe("failed");
    expect(failed.failureReason).toMatch(/worker running this build stopped without finishing it/);
    expect(failed.attempt).toBe(1);
    expect(failed.outputVersionId).toBeNull();
    // Same machine here, so the survivor's sweep also kills the appliance the dead worker left.
    await waitFor(
      () => Promise.resolve(liveProcessesInGroup(running.processGroup!)),
      (live) => live.length === 0,
      30_000,
    );
    const jobs = await db().execute<{ state: string }>(
      sql`select state from pgboss.job where name = 'image.build' and data->>'buildId' = ${killedId}`,
    );
    expect(jobs.rows.map((row) => row.state)).toEqual(["failed"]);

    const next = await finishedBuild(nextId);
    expect(next.build.workerPid).toBe(survivor.pid);

    // Nothing duplicated: every build of the run (the cluster's database holds only this file's)
    // made at most one version, and each was claimed once.
    const all = await db().select({ id: builds.id, status: builds.status, attempt: builds.attempt }).from(builds);
    expect(all).toHaveLength(4);
    expect(all.every((row) => row.attempt === 1)).toBe(true);
    const outputs = await db()
      .select({ buildId: imageVersions.buildId })
      .from(imageVersions)
      .where(
        inArray(
          imageVersions.buildId,
          all.map((row) => row.id),
        ),
      );
    expect(outputs.map((row) => row.buildId).sort()).toEqual(
      all
        .filter((row) => row.status === "succeeded")
        .map((row) => row.id)
        .sort(),
    );
    // No orphan: once no blob write is under way, every object in the bucket is some version's.
    await waitFor(
      async () => (await db().execute(sql`select 1 from blob_writes`)).rows.length,
      (count) => count === 0,
      90_000,
    );
    const referenced = new Set(
      (await db().select({ sha256: imageVersions.sha256 }).from(imageVersions)).map((row) => row.sha256),
    );
    const listed = await cluster.listBucket();
    expect(listed.others).toEqual([]);
    expect(listed.sha256s.filter((sha256) => !referenced.has(sha256))).toEqual([]);
    expect(listed.sha256s).toContain(next.version.sha256);
  }, 600_000);
});
