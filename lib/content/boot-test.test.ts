// Boot tests on real images with real QEMU (TCG here): the bootable Debian fixture reaches its
// login prompt, the busybox tiny guest has nothing to boot, a marker that never appears times out,
// a cancelled test leaves no process behind; plus who may ask, and the approval gate. QEMU starts
// three times in this file; the Debian disk is built once per machine (tests/bootable-debian.ts).
import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { createBootTest, getBootTestLogs, STALE_BOOT_TEST_REASON } from "@/db/queries/boot-tests";
import { createImage, createReadyVersion } from "@/db/queries/images";
import { listPendingReviews } from "@/db/queries/releases";
import type { Viewer } from "@/db/queries/users";
import { bootTests, images, imageVersions, type ReleaseStatus } from "@/db/schema";
import { cancelBootTestAction, requestBootTestAction, updateBootSettingsAction } from "@/lib/actions/boot-test-actions";
import { changeReleaseAction } from "@/lib/actions/release-actions";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";
import { env } from "@/lib/env";
import { createOverlay } from "@/lib/images/backing";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { closeQueue } from "@/lib/jobs/queue";
import { bootableDebian } from "@/tests/bootable-debian";
import { createTestProject, createTestUser, storeTestBlob, unique, viewerOf, waitFor } from "@/tests/fixtures";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { queueBootTestAfterUpload } from "./boot-queue";
import { checkBootability } from "./boot-sectors";
import { getBlobStore } from "@/lib/storage";
import { runBootTest } from "./boot-test";
import { bootTestWorkDir } from "./work-dir";

let admin: Viewer;
let member: Viewer;
let viewerRole: Viewer;
let outsider: Viewer;
let projectId: string;
let debian: { sha256: string; sha512: string; size: number };
let tiny: { sha256: string; sha512: string; size: number };
/** A linked clone of the Debian: an overlay naming it by sha256. */
let linkedDebian: { sha256: string; sha512: string; size: number };

const ended = (status: string) => status !== "queued" && status !== "running";
const row = async (id: string) => (await db().select().from(bootTests).where(eq(bootTests.id, id)))[0]!;

async function version({
  blob,
  releaseStatus = "pending_review",
  marker = null,
  required = false,
  createdById = null,
}: {
  blob: { sha256: string; sha512: string; size: number };
  releaseStatus?: ReleaseStatus;
  marker?: string | null;
  required?: boolean;
  createdById?: string | null;
}) {
  return db().transaction(async (tx) => {
    const image = await createImage({
      tx,
      actorId: createdById,
      values: { slug: unique("boot"), name: unique("Boot"), os: "Debian", osVersion: "12", projectId },
    });
    await tx
      .update(images)
      .set({ bootSuccessMarker: marker, bootTestRequired: required })
      .where(eq(images.id, image.id));
    const created = await createReadyVersion({
      tx,
      actorId: createdById,
      values: {
        imageId: image.id,
        version: "1",
        format: "qcow2",
        virtualSize: 1024 ** 3,
        fileSize: blob.size,
        sha256: blob.sha256,
        sha512: blob.sha512,
        releaseStatus,
        source: "upload",
      },
    });
    return { imageId: image.id, versionId: created.id };
  });
}

async function request(viewer: Viewer, versionId: string): Promise<string> {
  const result = await requestBootTestAction(viewer, { versionId });
  if (!result.ok) throw new Error(result.message);
  return result.data.bootTestId;
}

beforeAll(async () => {
  [admin, member, viewerRole, outsider] = await Promise.all([
    createTestUser({ role: "admin" }),
    createTestUser(),
    createTestUser(),
    createTestUser(),
  ]);
  ({ id: projectId } = await createTestProject({
    members: [
      { viewer: member, role: "owner" },
      { viewer: viewerRole, role: "viewer" },
    ],
  }));
  // Their memberships as a session would read them now.
  [member, viewerRole] = [(await viewerOf(member.id))!, (await viewerOf(viewerRole.id))!];
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-boot-test-"));
  const guest = await buildTinyGuest({ dir, name: "tiny-boot", formats: ["qcow2"] });
  tiny = await storeTestBlob(guest.qcow2!);
  debian = await storeTestBlob((await bootableDebian()).disk);
  const overlay = path.join(dir, "linked-debian.qcow2");
  await createOverlay({ base: { sha256: debian.sha256, format: "qcow2" }, file: overlay });
  linkedDebian = await storeTestBlob(overlay);
}, 1_800_000);

afterAll(async () => {
  await closeQueue();
});

describe("boot tests on real images", () => {
  it("passes on the bootable Debian: its login prompt appears on the serial console", async () => {
    const { versionId } = await version({ blob: debian });
    const id = await request(member, versionId);
    expect((await row(id)).status).toBe("queued");
    const started = Date.now();
    await runBootTest({ bootTestId: id });
    const test = await row(id);
    expect(test).toMatchObject({ status: "succeeded", result: "passed", failureReason: null, acceleration: "tcg" });
    expect(test.durationMs).toBeGreaterThan(1000);
    expect(test.durationMs).toBeLessThanOrEqual(Date.now() - started);
    console.log(`Debian reached its login prompt in ${((test.durationMs ?? 0) / 1000).toFixed(1)} s under TCG`);
    const lines = (await getBootTestLogs({ bootTestId: id, limit: 10_000 })).map((line) => line.line);
    expect(lines.some((line) => /Linux version 6\.1\./.test(line))).toBe(true);
    expect(lines.some((line) => /^hangar-debian login:/.test(line))).toBe(true);
    expect(lines.some((line) => /[\x00-\x08\x0b-\x1f\x1b]/.test(line))).toBe(false);
    expect(test.consoleBytes).toBeGreaterThan(1000);
    expect(test.consoleBytes).toBeLessThanOrEqual(1024 ** 2);
    await expect(readdir(bootTestWorkDir(id))).rejects.toThrow();
  }, 900_000);

  it("says not bootable on the busybox tiny guest, with the reason, without starting QEMU", async () => {
    const { versionId } = await version({ blob: tiny });
    const id = await request(member, versionId);
    await runBootTest({ bootTestId: id });
    const test = await row(id);
    expect(test).toMatchObject({
      status: "succeeded",
      result: "not_bootable",
      failureReason: "No bootloader found: the first sector has no boot code and there is no EFI system partition.",
      processGroup: null,
    });
    expect(test.durationMs).toBeLessThan(30_000);
  });

  it("times out when the image's marker never appears", async () => {
    const { versionId } = await version({ blob: debian, marker: "HANGAR-NEVER-PRINTED" });
    const { bootTestId: id } = await createBootTest({
      versionId,
      trigger: "manual",
      requestedById: member.id,
      timeoutSeconds: 6,
    });
    expect((await row(id)).successPattern).toBe("HANGAR-NEVER-PRINTED");
    let group = 0;
    const watching = waitFor(
      () => row(id),
      (current) => current.processGroup !== null || ended(current.status),
      60_000,
    ).then((current) => (group = current.processGroup ?? 0));
    await runBootTest({ bootTestId: id });
    await watching;
    const test = await row(id);
    expect(test).toMatchObject({ status: "succeeded", result: "timed_out" });
    expect(test.failureReason).toMatch(
      /^The line “HANGAR-NEVER-PRINTED” did not appear within 6 seconds \(HANGAR_BOOT_TEST_TIMEOUT\)/,
    );
    expect(test.durationMs).toBeGreaterThanOrEqual(6000);
    expect(group).toBeGreaterThan(0);
    expect(liveProcessesInGroup(group)).toEqual([]);
  }, 120_000);

  it("boots a linked clone through its base: the bootloader is found and QEMU runs until the time limit", async () => {
    const { versionId } = await version({ blob: linkedDebian, marker: "HANGAR-NEVER-PRINTED" });
    const { bootTestId: id } = await createBootTest({
      versionId,
      trigger: "manual",
      requestedById: member.id,
      timeoutSeconds: 6,
    });
    await runBootTest({ bootTestId: id });
    const test = await row(id);
    expect(test).toMatchObject({ status: "succeeded", result: "timed_out" });
    expect(test.durationMs).toBeGreaterThanOrEqual(6000);
  }, 120_000);

  it("cancels a running test: the QEMU process group is gone and the work directory removed", async () => {
    const { versionId } = await version({ blob: debian });
    const id = await request(member, versionId);
    const running = runBootTest({ bootTestId: id });
    // Wait until the guest prints something: QEMU is really running.
    const started = await waitFor(
      async () => ({ test: await row(id), lines: await getBootTestLogs({ bootTestId: id, limit: 50 }) }),
      ({ test, lines }) => ended(test.status) || (test.processGroup !== null && lines.length > 3),
      120_000,
    );
    expect(started.test.status).toBe("running");
    const group = started.test.processGroup!;
    expect(liveProcessesInGroup(group).some((process) => process.includes("qemu-system-x86_64"))).toBe(true);
    expect(await readdir(bootTestWorkDir(id))).toContain("overlay.qcow2");
    const refused = await cancelBootTestAction(viewerRole, { bootTestId: id });
    expect(refused).toMatchObject({ ok: false, code: "forbidden" });
    expect(await cancelBootTestAction(member, { bootTestId: id })).toEqual({ ok: true, data: { status: "running" } });
    await running;
    expect(await row(id)).toMatchObject({ status: "cancelled", result: null, processGroup: null });
    expect(liveProcessesInGroup(group)).toEqual([]);
    await expect(readdir(bootTestWorkDir(id))).rejects.toThrow();
  }, 180_000);
});

describe("who may ask", () => {
  it("refuses a non-admin on a revoked or disabled version, with the reason; an admin may", async () => {
    for (const status of ["revoked", "disabled"] as const) {
      const { versionId } = await version({ blob: tiny, releaseStatus: status });
      const refused = await requestBootTestAction(member, { versionId });
      expect(refused).toMatchObject({ ok: false, code: "forbidden" });
      expect(refused.ok ? "" : refused.message).toMatch(new RegExp(`This version is ${status}: nobody but an admin`));
      expect(await db().select().from(bootTests).where(eq(bootTests.versionId, versionId))).toEqual([]);
      const allowed = await requestBootTestAction(admin, { versionId });
      expect(allowed).toMatchObject({ ok: true, data: { created: true } });
    }
  });

  it("refuses viewers, people who can't see the version, and versions that are not ready", async () => {
    const { versionId } = await version({ blob: tiny });
    expect(await requestBootTestAction(viewerRole, { versionId })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await requestBootTestAction(outsider, { versionId })).toMatchObject({ ok: false, code: "not_found" });
    expect(await requestBootTestAction(member, { versionId: "nope" })).toMatchObject({ ok: false, code: "invalid" });
    await db().update(imageVersions).set({ dataStatus: "failed" }).where(eq(imageVersions.id, versionId));
    const notReady = await requestBootTestAction(member, { versionId });
    expect(notReady).toMatchObject({ ok: false, code: "conflict" });
    expect(notReady.ok ? "" : notReady.message).toMatch(/only ready versions can be boot-tested/);
  });

  it("answers a second request with the test already queued, and cancels a queued one at once", async () => {
    const { versionId } = await version({ blob: tiny });
    const first = await requestBootTestAction(member, { versionId });
    const second = await requestBootTestAction(member, { versionId });
    expect(first).toMatchObject({ ok: true, data: { created: true } });
    expect(second).toEqual({ ok: true, data: { bootTestId: first.ok && first.data.bootTestId, created: false } });
    const id = first.ok ? first.data.bootTestId : "";
    expect(await cancelBootTestAction(member, { bootTestId: id })).toEqual({ ok: true, data: { status: "cancelled" } });
    // The worker that picks the job up later finds nothing to do.
    await runBootTest({ bootTestId: id });
    expect(await row(id)).toMatchObject({ status: "cancelled", startedAt: null });
  });

  it("queues a test after an upload only when the disk has a bootloader", async () => {
    const data = await version({ blob: tiny });
    expect(
      await queueBootTestAfterUpload({
        versionId: data.versionId,
        bootable: await checkBootability({ file: await getBlobStore().localPath(tiny.sha256), format: "qcow2" }),
        actorId: null,
      }),
    ).toBe(false);
    const bootable = await version({ blob: debian });
    expect(
      await queueBootTestAfterUpload({
        versionId: bootable.versionId,
        bootable: await checkBootability({ file: await getBlobStore().localPath(debian.sha256), format: "qcow2" }),
        actorId: member.id,
      }),
    ).toBe(true);
    const [queued] = await db().select().from(bootTests).where(eq(bootTests.versionId, bootable.versionId));
    expect(queued).toMatchObject({ status: "queued", trigger: "upload", successPattern: "<login prompt>" });
    expect(queued!.timeoutSeconds).toBe(env().HANGAR_BOOT_TEST_TIMEOUT / 1000);
  });
});

describe("a worker that died", () => {
  it("is noticed by the sweep: its boot test ends failed with the reason", async () => {
    const { versionId } = await version({ blob: tiny });
    const [stale] = await db()
      .insert(bootTests)
      .values({
        versionId,
        status: "running",
        successPattern: "<login prompt>",
        timeoutSeconds: 60,
        workerHost: "another-machine",
        heartbeatAt: new Date(Date.now() - 120_000),
      })
      .returning({ id: bootTests.id });
    const lines: string[] = [];
    await sweepStaleBuilds({ staleSeconds: 30, log: (line) => lines.push(line) });
    expect(await row(stale!.id)).toMatchObject({
      status: "failed",
      failureReason: STALE_BOOT_TEST_REASON,
    });
    expect(lines).toContain(`Boot test ${stale!.id} lost its worker; marked failed.`);
  });
});

describe("the approval gate", () => {
  it("holds approval back until the version's latest boot test passed", async () => {
    const { versionId, imageId } = await version({ blob: tiny, createdById: member.id });
    // Owners set it; viewers may not.
    expect(await updateBootSettingsAction(viewerRole, { imageId, required: true, marker: "" })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await updateBootSettingsAction(member, { imageId, required: true, marker: "" })).toEqual({
      ok: true,
      data: { required: true, marker: null },
    });
    const approve = () => changeReleaseAction(admin, { versionId, action: "approve", reason: "" });
    const refused = await approve();
    expect(refused).toMatchObject({ ok: false, code: "conflict" });
    expect(refused.ok ? "" : refused.message).toBe(
      "This image requires a passing boot test before approval, and this version has not been boot-tested yet. Run “Test boot” and approve once it passes. Nothing was changed.",
    );
    const pending = async () => (await listPendingReviews()).find((item) => item.id === versionId)!;
    expect((await pending()).approveHeldBack).toMatch(/has not been boot-tested yet/);

    await db()
      .insert(bootTests)
      .values({
        versionId,
        status: "succeeded",
        result: "timed_out",
        successPattern: "<login prompt>",
        timeoutSeconds: 60,
        queuedAt: new Date(Date.now() - 60_000),
      });
    const timedOut = await approve();
    expect(timedOut.ok ? "" : timedOut.message).toMatch(/latest boot test timed out/);
    expect((await db().select().from(imageVersions).where(eq(imageVersions.id, versionId)))[0]!.releaseStatus).toBe(
      "pending_review",
    );

    await db().insert(bootTests).values({
      versionId,
      status: "succeeded",
      result: "passed",
      successPattern: "<login prompt>",
      timeoutSeconds: 60,
      durationMs: 42_000,
    });
    expect((await pending()).approveHeldBack).toBeNull();
    expect((await pending()).bootTest).toMatchObject({ status: "succeeded", result: "passed", durationMs: 42_000 });
    expect(await approve()).toMatchObject({ ok: true, data: { status: "approved" } });
  });
});
