// Builds end to end on the tiny real guest: real pg-boss, real workers, real qemu-img and one real
// libguestfs appliance launch per build (tens of seconds under TCG, so these tests are few).
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { createReadyVersion } from "@/db/queries/images";
import { attachRecipeFile } from "@/db/queries/recipes";
import type { Viewer } from "@/db/queries/users";
import { buildLogs, builds, images, imageVersions } from "@/db/schema";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import { cancelBuildAction, saveRecipeAction, startBuildAction as startBuild } from "@/lib/actions/recipe-actions";
import { env } from "@/lib/env";
import { qemuImgInfo } from "@/lib/images/qemu-img";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { jobHandlers } from "@/lib/jobs/handlers";
import { queue, startWorker, type Worker } from "@/lib/jobs/queue";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { getBlobStore, hashFile } from "@/lib/storage";
import {
  createTestImage,
  createTestProject,
  createTestUser,
  unique,
  viewerOf,
  waitFor,
  storeTestBlob,
} from "@/tests/fixtures";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { sweepStaleBuilds } from "./sweeper";

// Content jobs (an appliance launch or a VM boot per new file) are tested in lib/content; here their
// jobs, including those other test files left queued, are taken and dropped so they cost nothing.
const handlers = {
  ...jobHandlers,
  "content.inspect": async () => {},
  "content.diff": async () => {},
  "image.boot-test": async () => {},
  "demo.debian-image": async () => {},
};

const run = promisify(execFile);
const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBH5uVSaX1zjmR6c6Ff2mR1mA5hVQ4Hk3ucOm5ddCx8Z deploy@ci";
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

let member: Viewer;
let baseSlug: string;
let baseVersionId: string;
let outputSlug: string;
let projectId: string;
let worker: Worker | undefined;

const buildRow = async (id: string) => (await db().select().from(builds).where(eq(builds.id, id)))[0]!;

function recipe(steps: RecipeDocument["steps"], name = unique("recipe")): RecipeDocument {
  return {
    name,
    description: "",
    base: { image: baseSlug, version: "1.0" },
    steps,
    output: { image: outputSlug, format: "qcow2" },
  };
}

async function saveAndBuild(document: RecipeDocument, force = false) {
  const saved = await saveRecipeAction(member, { projectId, document });
  if (!saved.ok) throw new Error(saved.message);
  const started = await startBuild(member, { recipeId: saved.data.recipeId, force });
  if (!started.ok) throw new Error(started.message);
  return { recipeId: saved.data.recipeId, result: started.data };
}

/** virt-cat prints the files one after another; one appliance launch reads them all. */
async function virtCat(sha256: string, files: string[]): Promise<string> {
  const { stdout } = await run("virt-cat", ["--format=qcow2", "-a", await getBlobStore().localPath(sha256), ...files], {
    env: { ...process.env, LIBGUESTFS_BACKEND: "direct" },
    timeout: 240_000,
  });
  return stdout;
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  member = await createTestUser();
  const project = await createTestProject({ members: [{ viewer: member, role: "member" }] });
  projectId = project.id;
  member = (await viewerOf(member.id))!;
  // The base: the tiny guest's qcow2 in the real blob store.
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-build-"));
  const guest = await buildTinyGuest({ dir, name: "build-base", sizeMiB: 32, formats: ["qcow2"] });
  const hashes = await storeTestBlob(guest.qcow2!);
  const base = await createTestImage({ projectId, versions: [] });
  baseVersionId = await db().transaction(async (tx) => {
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
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

describe("a worker killed mid-build", () => {
  it("ends the build failed with the reason, kills what it left running, and produces nothing", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/worker.ts")], {
      cwd: root,
      env: { ...process.env, HANGAR_WORKER_CONCURRENCY: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    try {
      const { result } = await saveAndBuild(recipe([{ type: "write", path: "/etc/killed", content: "never" }]));
      if (!result.queued) throw new Error("expected a new build");
      const running = await waitFor(
        () => buildRow(result.buildId),
        (row) => row.status === "running" && row.processGroup !== null,
        120_000,
      );
      expect(running.workerPid).toBe(child.pid);
      child.kill("SIGKILL");
      // Any worker's sweep sees the missing heartbeat; the test runs the same sweep directly.
      const failed = await waitFor(
        async () => {
          await sweepStaleBuilds({ staleSeconds: 4, log: () => {}, queue: await queue() });
          return buildRow(result.buildId);
        },
        (row) => row.status !== "running",
        60_000,
      );
      expect(failed.status).toBe("failed");
      expect(failed.failureReason).toMatch(/worker running this build stopped/);
      expect(failed.outputVersionId).toBeNull();
      // Its queue job ends failed with it, not hours later at its expiry, and is never run again.
      const jobs = await db().execute<{ state: string }>(
        sql`select state from pgboss.job where name = 'image.build' and data->>'buildId' = ${result.buildId}`,
      );
      expect(jobs.rows.map((row) => row.state)).toEqual(["failed"]);
      // The orphaned appliance was killed with its process group and the work directory removed.
      await waitFor(
        () => Promise.resolve(groupAlive(running.processGroup!)),
        (alive) => !alive,
        15_000,
      );
      expect(await readdir(path.join(env().dataDir, "builds")).catch(() => [])).not.toContain(result.buildId);
      const outputs = await db()
        .select({ id: imageVersions.id })
        .from(imageVersions)
        .where(eq(imageVersions.buildId, result.buildId));
      expect(outputs).toHaveLength(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 300_000);
});

describe("a worker stopped mid-build (SIGTERM, as Ctrl-C or a service manager stops Hangar)", () => {
  it("ends the build failed saying why and kills its process group before the worker exits", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/worker.ts")], {
      cwd: root,
      env: { ...process.env, HANGAR_WORKER_CONCURRENCY: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const { result } = await saveAndBuild(recipe([{ type: "write", path: "/etc/stopped", content: "never" }]));
      if (!result.queued) throw new Error("expected a new build");
      const running = await waitFor(
        () => buildRow(result.buildId),
        (row) => row.status === "running" && row.processGroup !== null,
        120_000,
      );
      expect(running.workerPid).toBe(child.pid);
      await waitFor(
        () => Promise.resolve(liveProcessesInGroup(running.processGroup!)),
        (live) => live.some((line) => line.includes("virt-customize")),
        30_000,
      );
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      // Nothing of the build's group outlives the worker: no sweep, no waiting after the exit.
      expect(liveProcessesInGroup(running.processGroup!)).toEqual([]);
      const ended = await buildRow(result.buildId);
      expect(ended.status).toBe("failed");
      expect(ended.failureReason).toBe("Hangar was stopped while this build ran; nothing was kept. Retry the build.");
      expect(ended.outputVersionId).toBeNull();
      expect(await readdir(path.join(env().dataDir, "builds")).catch(() => [])).not.toContain(result.buildId);
      expect(output).toMatch(/Guests run with TCG \(software emulation\): \/dev\/kvm does not exist/);
    } finally {
      child.kill("SIGKILL");
    }
  }, 300_000);
});

describe("a build past its time limit", () => {
  let limited: Worker | undefined;
  beforeAll(async () => {
    // Long enough to claim the build and start virt-customize, far shorter than an appliance launch under TCG.
    limited = await startWorker({
      handlers,
      concurrency: 1,
      log: () => {},
      timeLimits: { "image.build": 8000 },
    });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it("ends failed with the limit named, kills its process group and keeps nothing; the build records how it ran", async () => {
    const { result } = await saveAndBuild(recipe([{ type: "write", path: "/etc/too-slow", content: "never" }]));
    if (!result.queued) throw new Error("expected a new build");
    const running = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.processGroup !== null || (row.status !== "running" && row.status !== "queued"),
      60_000,
    );
    expect(running.processGroup).not.toBeNull();
    expect(running).toMatchObject({ timeLimitSeconds: 8, acceleration: "tcg" });
    expect(running.accelerationReason).toMatch(/\/dev\/kvm does not exist/);
    const done = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.status !== "running",
      60_000,
    );
    expect(done.status).toBe("failed");
    expect(done.failureReason).toBe(
      "Stopped after 8 seconds, the build time limit (HANGAR_BUILD_TIMEOUT); nothing was kept. Retry the build, or ask an operator to raise HANGAR_BUILD_TIMEOUT if it needs longer.",
    );
    expect(liveProcessesInGroup(running.processGroup!)).toEqual([]);
    expect(done.outputVersionId).toBeNull();
    // The work directory goes right after the row is marked failed.
    await waitFor(
      () => readdir(path.join(env().dataDir, "builds")).catch(() => [] as string[]),
      (entries) => !entries.includes(result.buildId),
      10_000,
    );
    const logs = (
      await db().select({ line: buildLogs.line }).from(buildLogs).where(eq(buildLogs.buildId, result.buildId))
    ).map((row) => row.line);
    expect(logs).toContain("[hangar] Time limit: 8 seconds (HANGAR_BUILD_TIMEOUT)");
    expect(logs.some((line) => line.startsWith("[hangar] Guests run with TCG (software emulation)"))).toBe(true);
  }, 180_000);
});

describe("builds on the real worker", () => {
  beforeAll(async () => {
    worker = await startWorker({ handlers, concurrency: 1, log: () => {} });
  });

  it("builds a recipe end to end: file, command and SSH key are in the output, with lineage and fingerprint", async () => {
    // An attached file, stored as a blob of the recipe's project.
    const attachedPath = path.join(env().dataDir, "attached-upload");
    await writeFile(attachedPath, "uploaded through hangar\n");
    const attached = await hashFile(attachedPath);
    await getBlobStore().putFromTempFile({ tempPath: attachedPath, sha256: attached.sha256, size: attached.size });
    await attachRecipeFile({ viewer: member, projectId, file: { ...attached, filename: "hello.txt" } });
    const document = recipe([
      { type: "write", path: "/etc/hangar-built", content: "built by hangar\n", mode: "0644" },
      { type: "mkdir", path: "/opt/app" },
      { type: "upload", path: "/opt/app/hello.txt", blobSha256: attached.sha256, filename: "hello.txt" },
      { type: "run", script: 'echo ran-in-guest > /root/ran.txt\necho "it\'s quoted" >> /root/ran.txt\n' },
      { type: "ssh-key", user: "root", key },
    ]);
    const { recipeId, result } = await saveAndBuild(document);
    if (!result.queued) throw new Error("expected a new build");
    const done = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.status !== "queued" && row.status !== "running",
    );
    expect(done.failureReason).toBeNull();
    expect(done.status).toBe("succeeded");
    expect(done.steps.map((step) => step.status)).toEqual(["done", "done", "done", "done", "done"]);

    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.id, done.outputVersionId!));
    expect(version).toMatchObject({
      source: "build",
      releaseStatus: "pending_review",
      dataStatus: "ready",
      format: "qcow2",
      buildId: result.buildId,
      recipeRevisionId: done.revisionId,
    });
    const [base] = await db()
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(eq(imageVersions.id, done.baseVersionId));
    expect(version!.parentVersionId).toBe(base!.id);
    expect(done.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const info = JSON.parse(
      (
        await run("qemu-img", [
          "info",
          "--output=json",
          "-f",
          "qcow2",
          await getBlobStore().localPath(version!.sha256!),
        ])
      ).stdout,
    ) as Record<string, unknown>;
    expect(info["backing-filename"]).toBeUndefined(); // flattened: the output stands alone

    const files = await virtCat(version!.sha256!, [
      "/etc/hangar-built",
      "/opt/app/hello.txt",
      "/root/ran.txt",
      "/root/.ssh/authorized_keys",
    ]);
    expect(files).toMatch(
      new RegExp(`^built by hangar\nuploaded through hangar\nran-in-guest\nit's quoted\n.*${key.split(" ")[1]}`, "s"),
    );
    expect(await readdir(path.join(env().dataDir, "builds")).catch(() => [])).not.toContain(result.buildId);

    // The same fingerprint again offers the existing output instead of rebuilding.
    const again = await startBuild(member, { recipeId });
    expect(again.ok && again.data).toMatchObject({
      queued: false,
      reused: { buildId: result.buildId, versionId: version!.id },
    });
  }, 400_000);

  it("builds on a linked clone: virt-customize reads the clone's overlay through the base it names by sha256", async () => {
    const linkedSlug = unique("linked-base");
    const cloned = await cloneVersionAction(member, {
      versionId: baseVersionId,
      projectId,
      newImageSlug: linkedSlug,
      version: "1.0",
      mode: "linked",
    });
    if (!cloned.ok) throw new Error(cloned.message);
    await db()
      .update(imageVersions)
      .set({ releaseStatus: "approved" })
      .where(eq(imageVersions.imageId, (await db().select().from(images).where(eq(images.slug, linkedSlug)))[0]!.id));
    const document: RecipeDocument = {
      ...recipe([{ type: "write", path: "/etc/on-a-clone", content: "built on a linked clone\n", mode: "0644" }]),
      base: { image: linkedSlug, version: "1.0" },
    };
    const { result } = await saveAndBuild(document);
    if (!result.queued) throw new Error("expected a new build");
    const done = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.status !== "queued" && row.status !== "running",
    );
    expect(done.failureReason).toBeNull();
    expect(done.status).toBe("succeeded");
    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.id, done.outputVersionId!));
    const info = await qemuImgInfo({ path: await getBlobStore().localPath(version!.sha256!), format: "qcow2" });
    expect(info["backing-filename"]).toBeUndefined();
    expect(await virtCat(version!.sha256!, ["/etc/on-a-clone"])).toMatch(/^built on a linked clone\n/);
  }, 400_000);

  it("ends failed showing the step and the guest's output when a command fails inside the guest", async () => {
    const { result } = await saveAndBuild(
      recipe([
        { type: "write", path: "/etc/first", content: "ok" },
        { type: "run", script: "echo about-to-fail\necho broken-thing >&2\nexit 3\n" },
      ]),
    );
    if (!result.queued) throw new Error("expected a new build");
    const done = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.status !== "queued" && row.status !== "running",
    );
    expect(done.status).toBe("failed");
    expect(done.failureReason).toMatch(/^Step 2 \(Run a command\) failed/);
    expect(done.failureReason).toContain("broken-thing");
    expect(done.steps.map((step) => step.status)).toEqual(["done", "failed"]);
    expect(done.outputVersionId).toBeNull();
  }, 400_000);

  it("cancels a running build within seconds and keeps nothing", async () => {
    const { result } = await saveAndBuild(recipe([{ type: "write", path: "/etc/cancelled", content: "no" }]));
    if (!result.queued) throw new Error("expected a new build");
    const running = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.status === "running" && row.processGroup !== null,
      120_000,
    );
    const cancelled = await cancelBuildAction(member, { buildId: result.buildId });
    expect(cancelled.ok).toBe(true);
    const done = await waitFor(
      () => buildRow(result.buildId),
      (row) => row.status !== "running",
      30_000,
    );
    expect(done.status).toBe("cancelled");
    expect(done.outputVersionId).toBeNull();
    await waitFor(
      () => Promise.resolve(groupAlive(running.processGroup!)),
      (alive) => !alive,
      15_000,
    );
  }, 300_000);
});
