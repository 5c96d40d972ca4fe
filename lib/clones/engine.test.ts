// Clones end to end on the tiny real guest: the real blob store, real PostgreSQL, pg-boss, qemu-img
// and, for the identity reset, one real virt-sysprep appliance launch (tens of seconds under TCG).
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { completeClone, getVersionUsage, STALE_CLONE_REASON } from "@/db/queries/clones";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";
import { createReadyVersion } from "@/db/queries/images";
import { deleteVersion } from "@/db/queries/releases";
import type { Viewer } from "@/db/queries/users";
import { clones, conversions, imageVersions, images, projects } from "@/db/schema";
import { requestConversionAction as requestVersionConversion } from "@/lib/actions/import-actions";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import { env } from "@/lib/env";
import { withStagedDisk } from "@/lib/images/backing";
import { qemuImgInfo } from "@/lib/images/qemu-img";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { runConversion } from "@/lib/imports/convert";
import { jobHandlers } from "@/lib/jobs/handlers";
import { startWorker, type Worker } from "@/lib/jobs/queue";
import { getBlobStore, hashFile } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf, waitFor } from "@/tests/fixtures";

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
const MACHINE_ID = "0123456789abcdef0123456789abcdef\n";

let owner: Viewer;
let teamMember: Viewer;
let outsider: Viewer;
let baseProjectId: string;
let teamProjectId: string;
let base: { versionId: string; sha256: string; slug: string };
/** The linked clone made below, approved so it can be cloned on: a source whose file needs its base. */
let linkedSourceId: string;
let worker: Worker | undefined;

async function storedBlobs(): Promise<string[]> {
  const names: string[] = [];
  for await (const sha256 of getBlobStore().list()) names.push(sha256);
  return names.sort();
}

/** Whether the stored disk (read through its bases) holds exactly the base's content. */
const identicalToBase = (disk: { sha256: string; format: string }) =>
  withStagedDisk(disk, async (staged) => {
    const baseFile = await getBlobStore().localPath(base.sha256);
    // qemu-img compare exits 1 when the contents differ, 2 when it could not compare.
    const compared = await run("qemu-img", [
      "compare",
      "-f",
      staged.format,
      "-F",
      "qcow2",
      staged.path,
      baseFile,
    ]).catch((error: { code?: number; stdout?: string }) => {
      if (error.code === 1) return { stdout: error.stdout ?? "" };
      throw error;
    });
    return compared.stdout.includes("Images are identical");
  });

const cloneRow = async (id: string) => (await db().select().from(clones).where(eq(clones.id, id)))[0]!;
const versionRow = async (id: string) => (await db().select().from(imageVersions).where(eq(imageVersions.id, id)))[0]!;
const imageCount = async (slug: string) =>
  (await db().select({ n: count() }).from(images).where(eq(images.slug, slug)))[0]!.n;
const teamVersionCount = async () =>
  (
    await db()
      .select({ n: count() })
      .from(imageVersions)
      .innerJoin(images, eq(images.id, imageVersions.imageId))
      .where(eq(images.projectId, teamProjectId))
  )[0]!.n;

beforeAll(async () => {
  [owner, teamMember, outsider] = await Promise.all([createTestUser(), createTestUser(), createTestUser()]);
  baseProjectId = (await createTestProject({ members: [{ viewer: owner, role: "owner" }] })).id;
  teamProjectId = (await createTestProject({ members: [{ viewer: teamMember, role: "member" }] })).id;
  await createTestProject({ members: [{ viewer: outsider, role: "owner" }] });
  [owner, teamMember, outsider] = (await Promise.all([
    viewerOf(owner.id),
    viewerOf(teamMember.id),
    viewerOf(outsider.id),
  ])) as [Viewer, Viewer, Viewer];

  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-clone-"));
  const guest = await buildTinyGuest({
    dir,
    name: "clone-base",
    sizeMiB: 32,
    formats: ["qcow2"],
    extraFiles: { "/etc/machine-id": MACHINE_ID },
  });
  const hashes = await hashFile(guest.qcow2!);
  const temp = path.join(env().dataDir, `clone-base-${hashes.sha256.slice(0, 8)}`);
  await copyFile(guest.qcow2!, temp);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hashes.sha256, size: hashes.size });
  const image = await createTestImage({ projectId: baseProjectId, versions: [], visibility: "public" });
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: owner.id,
      values: {
        imageId: image.id,
        version: "1.0",
        format: "qcow2",
        virtualSize: 32 * 1024 ** 2,
        fileSize: hashes.size,
        sha256: hashes.sha256,
        sha512: hashes.sha512,
        releaseStatus: "approved",
        source: "upload",
      },
    }),
  );
  base = { versionId: version.id, sha256: hashes.sha256, slug: image.slug };
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

describe("a linked clone", () => {
  let cloneVersionId: string;

  it("is made at once as a small overlay on the base's blob, with lineage, counted by its own bytes", async () => {
    const slug = unique("linked");
    const result = await cloneVersionAction(teamMember, {
      versionId: base.versionId,
      projectId: teamProjectId,
      newImageSlug: slug,
      newImageName: "Linked",
      version: "1.0",
      mode: "linked",
    });
    expect(result).toMatchObject({ ok: true, data: { queued: false } });
    if (!result.ok) return;
    const clone = await cloneRow(result.data.cloneId);
    expect(clone).toMatchObject({ status: "succeeded", progress: 100 });
    const version = await versionRow(clone.resultVersionId!);
    cloneVersionId = version.id;
    linkedSourceId = version.id;
    expect(version).toMatchObject({
      source: "clone",
      parentVersionId: base.versionId,
      backingVersionId: base.versionId,
      dataStatus: "ready",
      releaseStatus: "draft",
      format: "qcow2",
      virtualSize: 32 * 1024 ** 2,
    });
    expect(version.createdById).toBe(teamMember.id);

    const overlay = await getBlobStore().localPath(version.sha256!);
    const info = await qemuImgInfo({ path: overlay, format: "qcow2" });
    // The base by sha256 alone, so the overlay reads the same wherever a machine keeps its blobs.
    expect(info["backing-filename"]).toBe(base.sha256);
    expect(info["backing-filename-format"]).toBe("qcow2");
    expect((await readFile(overlay)).includes(env().dataDir)).toBe(false);
    expect(version.fileSize!).toBeLessThan(1024 * 1024);
    expect((await hashFile(overlay)).sha256).toBe(version.sha256);
    // The overlay reads exactly the base's content.
    await expect(identicalToBase({ sha256: version.sha256!, format: "qcow2" })).resolves.toBe(true);
    expect(
      (await getVersionUsage({ viewer: owner, versionId: base.versionId, ownerProjectId: baseProjectId })).clones,
    ).toBeGreaterThanOrEqual(1);
  });

  it("can be cloned linked again: the new overlay names the clone's blob, and reads the base's content through both", async () => {
    await db().update(imageVersions).set({ releaseStatus: "approved" }).where(eq(imageVersions.id, cloneVersionId));
    const result = await cloneVersionAction(teamMember, {
      versionId: cloneVersionId,
      projectId: teamProjectId,
      newImageSlug: unique("linked-again"),
      version: "1.0",
      mode: "linked",
    });
    expect(result).toMatchObject({ ok: true, data: { queued: false } });
    if (!result.ok) return;
    const version = await versionRow((await cloneRow(result.data.cloneId)).resultVersionId!);
    const source = await versionRow(cloneVersionId);
    expect(version).toMatchObject({ backingVersionId: cloneVersionId, dataStatus: "ready", format: "qcow2" });
    const info = await qemuImgInfo({ path: await getBlobStore().localPath(version.sha256!), format: "qcow2" });
    expect(info["backing-filename"]).toBe(source.sha256);
    expect(info["backing-filename-format"]).toBe("qcow2");
    await expect(identicalToBase({ sha256: version.sha256!, format: "qcow2" })).resolves.toBe(true);

    // Its download is flattened through both overlays.
    const requested = await requestVersionConversion(teamMember, { versionId: version.id, format: "qcow2" });
    if (!requested.ok) throw new Error(requested.message);
    await runConversion({ conversionId: requested.data.conversionId });
    const [conversion] = await db().select().from(conversions).where(eq(conversions.id, requested.data.conversionId));
    expect(conversion).toMatchObject({ status: "succeeded" });
    const flat = await getBlobStore().localPath(conversion!.sha256!);
    expect((await qemuImgInfo({ path: flat, format: "qcow2" }))["backing-filename"]).toBeUndefined();
    await expect(identicalToBase({ sha256: conversion!.sha256!, format: "qcow2" })).resolves.toBe(true);
  });

  it("keeps its base from being deleted", async () => {
    await expect(deleteVersion({ viewer: owner, versionId: base.versionId })).rejects.toThrow(
      /linked clone whose overlay reads from it/,
    );
    expect(await versionRow(base.versionId)).toMatchObject({ id: base.versionId, dataStatus: "ready" });
  });

  it("downloads only flattened: its conversion to qcow2 has no backing file and the same content", async () => {
    const requested = await requestVersionConversion(teamMember, { versionId: cloneVersionId, format: "qcow2" });
    expect(requested).toMatchObject({ ok: true });
    if (!requested.ok) return;
    await runConversion({ conversionId: requested.data.conversionId });
    const [conversion] = await db().select().from(conversions).where(eq(conversions.id, requested.data.conversionId));
    expect(conversion).toMatchObject({ status: "succeeded" });
    const flat = await getBlobStore().localPath(conversion!.sha256!);
    const info = await qemuImgInfo({ path: flat, format: "qcow2" });
    expect(info["backing-filename"]).toBeUndefined();
    await run("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", flat, await getBlobStore().localPath(base.sha256)]);
  });
});

describe("refusals", () => {
  it("refuses to clone into a project the caller is not a member of, and creates nothing", async () => {
    const before = await teamVersionCount();
    const slug = unique("nope");
    expect(
      await cloneVersionAction(outsider, {
        versionId: base.versionId,
        projectId: teamProjectId,
        newImageSlug: slug,
        version: "1.0",
        mode: "linked",
      }),
    ).toMatchObject({ ok: false, code: "not_found" });
    expect(await teamVersionCount()).toBe(before);
    expect(await imageCount(slug)).toBe(0);
  });

  it.each([
    ["draft", /draft/],
    ["pending_review", /waiting for review/],
    ["disabled", /disabled/],
    ["revoked", /revoked/],
  ] as const)("refuses to clone a %s version", async (releaseStatus, reason) => {
    const image = await createTestImage({ projectId: teamProjectId, versions: [{ version: "9.0", releaseStatus }] });
    const [version] = await db()
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(eq(imageVersions.imageId, image.id));
    const slug = unique("bad");
    const result = await cloneVersionAction(teamMember, {
      versionId: version!.id,
      projectId: teamProjectId,
      newImageSlug: slug,
      version: "1.0",
      mode: "full",
    });
    // Disabled and revoked versions of one's own project are seen but never used.
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.message).toMatch(reason);
    expect(await imageCount(slug)).toBe(0);
    expect(await db().select({ n: count() }).from(clones).where(eq(clones.sourceVersionId, version!.id))).toEqual([
      { n: 0 },
    ]);
  });

  it("refuses a clone the quota can't hold, saying how much it needs", async () => {
    const tight = await createTestProject({ members: [{ viewer: teamMember, role: "member" }] });
    await db().update(projects).set({ quotaBytes: 1024 }).where(eq(projects.id, tight.id));
    const member = (await viewerOf(teamMember.id))!;
    const result = await cloneVersionAction(member, {
      versionId: base.versionId,
      projectId: tight.id,
      newImageSlug: unique("big"),
      version: "1.0",
      mode: "full",
    });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok)
      expect(result.message).toMatch(
        /This clone needs [0-9.]+ MiB but .* has 1 KiB of its 1 KiB quota free\. Free [0-9.]+ MiB/,
      );
    expect(await db().select({ n: count() }).from(clones).where(eq(clones.projectId, tight.id))).toEqual([{ n: 0 }]);
  });

  it("refuses a version number the image already has, and a short name that is taken", async () => {
    const image = await createTestImage({ projectId: teamProjectId, versions: [{ version: "2.0" }] });
    expect(
      await cloneVersionAction(teamMember, {
        versionId: base.versionId,
        projectId: teamProjectId,
        imageId: image.id,
        version: "2.0",
        mode: "linked",
      }),
    ).toMatchObject({ ok: false, code: "conflict" });
    expect(
      await cloneVersionAction(teamMember, {
        versionId: base.versionId,
        projectId: teamProjectId,
        newImageSlug: image.slug,
        version: "1.0",
        mode: "linked",
      }),
    ).toMatchObject({ ok: false, code: "conflict" });
    expect(
      await cloneVersionAction(teamMember, {
        versionId: base.versionId,
        projectId: teamProjectId,
        imageId: image.id,
        newImageSlug: unique("both"),
        version: "3.0",
        mode: "linked",
      }),
    ).toMatchObject({ ok: false, code: "invalid" });
  });
});

describe("a full clone of a self-contained version without reset", () => {
  it("is the same bytes: made at once, holding the base's stored file, its full size counted", async () => {
    const blobsBefore = await storedBlobs();
    const result = await cloneVersionAction(teamMember, {
      versionId: base.versionId,
      projectId: teamProjectId,
      newImageSlug: unique("same"),
      version: "1.0",
      mode: "full",
    });
    expect(result).toMatchObject({ ok: true, data: { queued: false } });
    if (!result.ok) return;
    const clone = await cloneRow(result.data.cloneId);
    expect(clone.status).toBe("succeeded");
    const version = await versionRow(clone.resultVersionId!);
    const baseVersion = await versionRow(base.versionId);
    expect(version).toMatchObject({
      source: "clone",
      parentVersionId: base.versionId,
      backingVersionId: null,
      sha256: base.sha256,
      sha512: baseVersion.sha512,
      fileSize: baseVersion.fileSize,
      format: "qcow2",
    });
    expect(await storedBlobs()).toEqual(blobsBefore);
    // Independent of its source: deleting the source would leave the shared file to the clone.
    const info = await qemuImgInfo({ path: await getBlobStore().localPath(version.sha256!), format: "qcow2" });
    expect(info["backing-filename"]).toBeUndefined();
  });
});

describe("a clone made at once that can't land", () => {
  it("answers the caller with the reason: of two same-named clones at once, one lands and the other is refused", async () => {
    const slug = unique("twice");
    const request = () =>
      cloneVersionAction(teamMember, {
        versionId: base.versionId,
        projectId: teamProjectId,
        newImageSlug: slug,
        version: "1.0",
        mode: "linked",
      });
    const results = await Promise.all([request(), request()]);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.find((result) => !result.ok)).toMatchObject({
      ok: false,
      code: "conflict",
      message: `The short name ${slug} is taken; choose another.`,
    });
    expect(await imageCount(slug)).toBe(1);
  });
});

describe("a clone whose worker died", () => {
  it("is ended failed with the reason by any worker's sweep, and can't land afterwards", async () => {
    const [row] = await db()
      .insert(clones)
      .values({
        sourceVersionId: base.versionId,
        projectId: teamProjectId,
        newImage: { slug: unique("orphan"), name: "Orphan" },
        version: "1.0",
        mode: "full",
        status: "running",
        reservedBytes: 4096,
        updatedAt: new Date(Date.now() - 10 * 60_000),
      })
      .returning({ id: clones.id });
    await sweepStaleBuilds({ log: () => {} });
    const swept = await cloneRow(row!.id);
    expect(swept).toMatchObject({ status: "failed", failureReason: STALE_CLONE_REASON });
    await expect(
      completeClone(row!.id, {
        sha256: "0".repeat(64),
        sha512: "0".repeat(128),
        size: 1,
        format: "qcow2",
        virtualSize: 1,
        inspection: {},
        backingVersionId: null,
      }),
    ).rejects.toThrow(/already finished/);
  });
});

describe("a full clone with identity reset (real virt-sysprep)", () => {
  it("is made by a job: no backing file, a new machine-id, its full size counted", async () => {
    worker = await startWorker({ handlers, log: () => {} });
    const slug = unique("full");
    const result = await cloneVersionAction(teamMember, {
      versionId: base.versionId,
      projectId: teamProjectId,
      newImageSlug: slug,
      version: "1.0",
      mode: "full",
      resetIdentity: true,
    });
    expect(result).toMatchObject({ ok: true, data: { queued: true } });
    if (!result.ok) return;
    // Nothing is visible until it is done.
    expect(await imageCount(slug)).toBe(0);
    const done = await waitFor(
      () => cloneRow(result.data.cloneId),
      (row) => row.status === "succeeded" || row.status === "failed",
    );
    expect(done).toMatchObject({ status: "succeeded", failureReason: null });
    expect(done.resetOperations).toContain("machine-id");
    const version = await versionRow(done.resultVersionId!);
    expect(version).toMatchObject({
      source: "clone",
      parentVersionId: base.versionId,
      backingVersionId: null,
      format: "qcow2",
    });
    const file = await getBlobStore().localPath(version.sha256!);
    const info = await qemuImgInfo({ path: file, format: "qcow2" });
    expect(info["backing-filename"]).toBeUndefined();
    const { stdout } = await run("virt-cat", ["--format=qcow2", "-a", file, "/etc/machine-id"], {
      env: { ...process.env, LIBGUESTFS_BACKEND: "direct" },
      timeout: 240_000,
    });
    expect(stdout).not.toBe(MACHINE_ID);
    expect(stdout.trim()).toBe("");
    expect(version.fileSize).toBe((await hashFile(file)).size);
  }, 600_000);

  it("fails with how much it needs when the quota fills up while it runs, and leaves nothing", async () => {
    worker ??= await startWorker({ handlers, log: () => {} });
    const slug = unique("squeezed");
    const project = await createTestProject({ members: [{ viewer: teamMember, role: "member" }] });
    const member = (await viewerOf(teamMember.id))!;
    await worker.stop();
    worker = undefined;
    // Cloning the linked clone in full has to flatten it: a job copies and hashes new bytes.
    await db().update(imageVersions).set({ releaseStatus: "approved" }).where(eq(imageVersions.id, linkedSourceId));
    const result = await cloneVersionAction(member, {
      versionId: linkedSourceId,
      projectId: project.id,
      newImageSlug: slug,
      version: "1.0",
      mode: "full",
    });
    expect(result).toMatchObject({ ok: true, data: { queued: true } });
    if (!result.ok) return;
    // Someone else's upload took the room before the job ran.
    await db().update(projects).set({ quotaBytes: 4096 }).where(eq(projects.id, project.id));
    await db().update(clones).set({ reservedBytes: 0 }).where(eq(clones.id, result.data.cloneId));
    const blobsBefore = await storedBlobs();
    worker = await startWorker({ handlers, log: () => {} });
    const done = await waitFor(
      () => cloneRow(result.data.cloneId),
      (row) => row.status === "succeeded" || row.status === "failed",
    );
    expect(done.status).toBe("failed");
    expect(done.failureReason).toMatch(/This clone needs .* but .* quota free/);
    expect(await imageCount(slug)).toBe(0);
    expect(
      await db()
        .select({ n: count() })
        .from(imageVersions)
        .innerJoin(images, eq(images.id, imageVersions.imageId))
        .where(and(eq(images.projectId, project.id))),
    ).toEqual([{ n: 0 }]);
    // The copy's bytes were stored before the quota check refused them; they went again.
    expect(await storedBlobs()).toEqual(blobsBefore);
  }, 300_000);
});

describe("a linked clone with identity reset (real virt-sysprep)", () => {
  it("is written by virt-sysprep through its base's name beside it, and still names the base by sha256 alone", async () => {
    worker ??= await startWorker({ handlers, log: () => {} });
    const result = await cloneVersionAction(teamMember, {
      versionId: base.versionId,
      projectId: teamProjectId,
      newImageSlug: unique("linked-reset"),
      version: "1.0",
      mode: "linked",
      resetIdentity: true,
    });
    expect(result).toMatchObject({ ok: true, data: { queued: true } });
    if (!result.ok) return;
    const done = await waitFor(
      () => cloneRow(result.data.cloneId),
      (row) => row.status === "succeeded" || row.status === "failed",
    );
    expect(done).toMatchObject({ status: "succeeded", failureReason: null });
    const version = await versionRow(done.resultVersionId!);
    expect(version).toMatchObject({ backingVersionId: base.versionId, format: "qcow2" });
    const info = await qemuImgInfo({ path: await getBlobStore().localPath(version.sha256!), format: "qcow2" });
    expect(info["backing-filename"]).toBe(base.sha256);
    expect(info["backing-filename-format"]).toBe("qcow2");
    // The reset wrote into the overlay: read through the base, it is no longer the base's content.
    await expect(identicalToBase({ sha256: version.sha256!, format: "qcow2" })).resolves.toBe(false);
  }, 600_000);
});
