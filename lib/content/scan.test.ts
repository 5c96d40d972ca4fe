// The content inspection job on real images, real libguestfs, real PostgreSQL. Appliance launches
// are the cost (tens of seconds each under TCG), so each fixture is inspected once, two at a time,
// in beforeAll, and the tests read what was stored: the Debian fixture (debootstrap minbase
// bookworm) against dpkg-query's own list, the busybox tiny guest, a linked clone read through its
// backing chain, a disk of zeros, a corrupt filesystem; then one scan cancelled mid-launch.
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, open, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import {
  getContentScan,
  requestContentScan,
  requestContentScanCancel,
  requestMissingContentScans,
  sweepStaleContentScans,
  STALE_CONTENT_SCAN_REASON,
} from "@/db/queries/content-scans";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { contentPackages, contentScans, type DiskFormat } from "@/db/schema";
import { rescanVersionAction } from "@/lib/actions/content-actions";
import { createOverlay } from "@/lib/images/backing";
import { startJobRun } from "@/lib/jobs/job-run";
import { buildTinyGuest, type TinyGuest } from "@/lib/images/tiny-guest";
import { debianGuest, debianGuestPackages } from "@/tests/debian-guest";
import { createTestImage, createTestProject, createTestUser, storeTestBlob, viewerOf } from "@/tests/fixtures";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { runContentScan, type ContentScanOutcome } from "./scan";
import { contentScanWorkDir } from "./work-dir";

let member: Viewer;
let outsider: Viewer;
let projectId: string;
let dir: string;
let tiny: TinyGuest;
const blobs: Record<"debian" | "tiny" | "zeros" | "corrupt" | "linked" | "cancel", string> = {
  debian: "",
  tiny: "",
  zeros: "",
  corrupt: "",
  linked: "",
  cancel: "",
};
const versions: Record<string, string> = {};
const outcomes: Record<string, ContentScanOutcome> = {};

async function addVersion(
  key: string,
  hashes: { sha256: string; sha512: string; size: number },
  format: DiskFormat,
  extra: { backingVersionId?: string; source?: "upload" | "clone" } = {},
) {
  const image = await createTestImage({ projectId, versions: [] });
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: member.id,
      values: {
        imageId: image.id,
        version: "1.0",
        format,
        virtualSize: 64 * 1024 * 1024,
        fileSize: hashes.size,
        sha256: hashes.sha256,
        sha512: hashes.sha512,
        releaseStatus: "draft",
        source: extra.source ?? "upload",
        backingVersionId: extra.backingVersionId,
      },
    }),
  );
  versions[key] = version.id;
  return version;
}

/** Breaks an ext4 filesystem so that blkid still names it but the kernel refuses to mount it: its group descriptors are overwritten. */
async function corruptExt4(file: string) {
  const handle = await open(file, "r+");
  try {
    const superblock = Buffer.alloc(1024);
    await handle.read(superblock, 0, 1024, 1024);
    const blockSize = 1024 << superblock.readUInt32LE(24);
    const descriptors = blockSize === 1024 ? 2048 : blockSize;
    await handle.write(Buffer.alloc(blockSize, 0xa5), 0, blockSize, descriptors);
  } finally {
    await handle.close();
  }
}

/** Runs the given scans, two at a time (the machine has two cores; each appliance uses one). */
async function scanAll(keys: (keyof typeof blobs)[]) {
  const pending = [...keys];
  const lane = async () => {
    for (let key = pending.shift(); key; key = pending.shift())
      outcomes[key] = await runContentScan({ sha256: blobs[key] });
  };
  await Promise.all([lane(), lane()]);
}

beforeAll(async () => {
  [member, outsider] = await Promise.all([createTestUser(), createTestUser()]);
  projectId = (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id;
  await createTestProject({ members: [{ viewer: outsider, role: "owner" }] });
  [member, outsider] = (await Promise.all([viewerOf(member.id), viewerOf(outsider.id)])) as [Viewer, Viewer];
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-content-"));

  const debian = await storeTestBlob(await debianGuest());
  blobs.debian = debian.sha256;
  // Identical bytes in two versions (two images): one scan.
  await addVersion("debian", debian, "qcow2");
  const second = await addVersion("debian-again", debian, "qcow2");
  expect(second.scanRequested).toBe(false);

  tiny = await buildTinyGuest({ dir, name: "content-tiny", formats: ["raw", "qcow2"] });
  const tinyHashes = await storeTestBlob(tiny.raw);
  blobs.tiny = tinyHashes.sha256;
  const tinyVersion = await addVersion("tiny", tinyHashes, "raw");

  // A linked clone as the clone engine makes it: a qcow2 overlay naming the stored base and its format.
  const overlay = path.join(dir, "linked.qcow2");
  await createOverlay({ base: { sha256: tinyHashes.sha256, format: "raw" }, file: overlay });
  const linked = await storeTestBlob(overlay);
  blobs.linked = linked.sha256;
  await addVersion("linked", linked, "qcow2", { backingVersionId: tinyVersion.id, source: "clone" });

  const zeros = path.join(dir, "zeros.raw");
  await writeFile(zeros, "");
  await truncate(zeros, 64 * 1024 * 1024);
  const zeroHashes = await storeTestBlob(zeros);
  blobs.zeros = zeroHashes.sha256;
  await addVersion("zeros", zeroHashes, "raw");

  const corrupt = path.join(dir, "corrupt.raw");
  await copyFile(tiny.raw, corrupt);
  await corruptExt4(corrupt);
  const corruptHashes = await storeTestBlob(corrupt);
  blobs.corrupt = corruptHashes.sha256;
  await addVersion("corrupt", corruptHashes, "raw");

  const cancelHashes = await storeTestBlob(tiny.qcow2!);
  blobs.cancel = cancelHashes.sha256;
  await addVersion("cancel", cancelHashes, "qcow2");

  await scanAll(["debian", "tiny", "linked", "zeros", "corrupt"]);
}, 900_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const packagesOf = (sha256: string) =>
  db().select().from(contentPackages).where(eq(contentPackages.scanSha256, sha256)).orderBy(contentPackages.name);

describe("the Debian fixture", () => {
  it("reports the OS facts libguestfs reads from its bytes", async () => {
    expect(outcomes.debian).toMatchObject({ status: "succeeded" });
    const scan = await getContentScan(blobs.debian);
    expect(scan).toMatchObject({
      status: "succeeded",
      osFound: true,
      noOsReason: null,
      osType: "linux",
      distro: "debian",
      arch: "x86_64",
      packageFormat: "deb",
      packageManager: "apt",
      failureReason: null,
    });
    expect(scan!.osVersion).toMatch(/^12(\.\d+)?$/);
    expect(scan!.productName).toMatch(/Debian|12/);
    expect(scan!.loginUsers).toContain("root");
    expect(scan!.filesystems).toEqual([
      expect.objectContaining({ device: "/dev/sda", type: "ext4", label: "root", mountpoint: "/" }),
    ]);
    const [root] = scan!.filesystems;
    expect(root!.size).toBeGreaterThan(900 * 1024 * 1024);
    expect(root!.used).toBeGreaterThan(100 * 1024 * 1024);
    expect(root!.used! + root!.free!).toBeLessThanOrEqual(root!.size!);
    expect(scan!.durationMs).toBeGreaterThan(0);
    expect(scan!.workerPid).toBe(process.pid);
    expect(existsSync(contentScanWorkDir(blobs.debian))).toBe(false);
  });

  it("lists exactly the packages dpkg-query printed inside the chroot, with their versions", async () => {
    const expected = await debianGuestPackages();
    const stored = await packagesOf(blobs.debian);
    const scan = await getContentScan(blobs.debian);
    expect(scan!.packageCount).toBe(expected.length);
    expect(stored).toHaveLength(expected.length);
    expect(stored.map((item) => `${item.name} ${item.version}`).sort()).toEqual(
      expected.map((item) => `${item.name} ${item.version}`).sort(),
    );
    const dpkg = expected.find((item) => item.name === "dpkg")!;
    expect(stored.find((item) => item.name === "dpkg")).toMatchObject({
      version: dpkg.version,
      scheme: "deb",
      arch: "amd64",
    });
    expect(stored.every((item) => item.scheme === "deb" && item.sortKey.length > 0)).toBe(true);
  });

  it("inspects identical bytes once, whichever versions hold them", async () => {
    expect(await db().$count(contentScans, eq(contentScans.sha256, blobs.debian))).toBe(1);
    const before = await getContentScan(blobs.debian);
    expect(await runContentScan({ sha256: blobs.debian })).toEqual({ status: "not-runnable" });
    expect(await getContentScan(blobs.debian)).toEqual(before);
  });
});

describe("the busybox tiny guest", () => {
  it("honestly reports what is there: Linux, its os-release, no package manager, the users with a shell", async () => {
    expect(outcomes.tiny).toMatchObject({ status: "succeeded" });
    const scan = await getContentScan(blobs.tiny);
    expect(scan).toMatchObject({
      status: "succeeded",
      osFound: true,
      osType: "linux",
      distro: tiny.osRelease.id,
      productName: tiny.osRelease.prettyName,
      hostname: "tiny-guest",
      arch: "x86_64",
      packageFormat: null,
      packageManager: null,
      packageCount: 0,
      initSystem: "busybox",
      kernels: [],
      // nobody's shell is /bin/false
      loginUsers: ["root"],
      enabledServices: [],
    });
    expect(await packagesOf(blobs.tiny)).toEqual([]);
  });

  it("reads a linked clone through its backing chain", async () => {
    expect(outcomes.linked).toMatchObject({ status: "succeeded" });
    const scan = await getContentScan(blobs.linked);
    expect(scan).toMatchObject({ status: "succeeded", osFound: true, hostname: "tiny-guest", loginUsers: ["root"] });
    expect(scan!.filesystems).toEqual((await getContentScan(blobs.tiny))!.filesystems);
  });
});

describe("images with nothing to read", () => {
  it("says plainly that a disk of zeros has no OS", async () => {
    expect(outcomes.zeros).toMatchObject({ status: "succeeded" });
    const scan = await getContentScan(blobs.zeros);
    expect(scan).toMatchObject({ status: "succeeded", osFound: false, osType: null, packageCount: 0 });
    // libguestfs may list the blank device itself as a filesystem of unknown type: no sizes then.
    for (const filesystem of scan!.filesystems) expect(filesystem).toMatchObject({ type: "unknown", size: null });
    expect(scan!.noOsReason).toMatch(/No operating system was found.*no filesystem/);
  });

  it("fails a corrupt filesystem with a reason, and Inspect again is for its project's contributors", async () => {
    expect(outcomes.corrupt).toMatchObject({ status: "failed" });
    const scan = await getContentScan(blobs.corrupt);
    expect(scan!.status).toBe("failed");
    expect(scan!.failureReason).toMatch(/could not be read.*corrupt.*\/dev\/sda \(ext4\)/);
    expect(await packagesOf(blobs.corrupt)).toEqual([]);

    const refused = await rescanVersionAction(outsider, { versionId: versions.corrupt });
    expect(refused).toMatchObject({ ok: false, code: "not_found" });
    expect((await getContentScan(blobs.corrupt))!.status).toBe("failed");
    const again = await rescanVersionAction(member, { versionId: versions.corrupt });
    expect(again).toMatchObject({ ok: true, data: { status: "queued" } });
    expect(await getContentScan(blobs.corrupt)).toMatchObject({ status: "queued", failureReason: null });
    // Asking twice changes nothing; a scan that succeeded is not read again.
    expect(await rescanVersionAction(member, { versionId: versions.corrupt })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    expect(await rescanVersionAction(member, { versionId: versions.tiny })).toMatchObject({
      ok: false,
      code: "conflict",
    });
  });
});

describe("requests, cancel and the sweep", () => {
  it("start-up reconcile requests a scan for a ready version that has none, in one statement", async () => {
    await db().delete(contentScans).where(eq(contentScans.sha256, blobs.cancel));
    expect(await getContentScan(blobs.cancel)).toBeNull();
    expect(await requestMissingContentScans()).toContain(blobs.cancel);
    expect(await getContentScan(blobs.cancel)).toMatchObject({ status: "queued" });
    expect(await requestMissingContentScans()).not.toContain(blobs.debian);
  });

  it("cancel during the appliance launch kills its whole process group and keeps nothing", async () => {
    const running = runContentScan({ sha256: blobs.cancel });
    let group: number | null = null;
    for (let waited = 0; waited < 60_000 && !group; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const row = await getContentScan(blobs.cancel);
      if (row?.processGroup && liveProcessesInGroup(row.processGroup).some((line) => /qemu/.test(line)))
        group = row.processGroup;
    }
    expect(group).not.toBeNull();
    expect(await requestContentScanCancel({ sha256: blobs.cancel })).toBe(true);
    expect(await running).toMatchObject({ status: "cancelled" });
    expect(liveProcessesInGroup(group!)).toEqual([]);
    expect(await getContentScan(blobs.cancel)).toMatchObject({ status: "cancelled", processGroup: null });
    expect(await packagesOf(blobs.cancel)).toEqual([]);
    expect(existsSync(contentScanWorkDir(blobs.cancel))).toBe(false);
  }, 120_000);

  it("the sweep fails a scan whose worker stopped sending heartbeats", async () => {
    await db()
      .update(contentScans)
      .set({ status: "running", heartbeatAt: sql`now() - interval '10 minutes'`, workerHost: "elsewhere" })
      .where(eq(contentScans.sha256, blobs.cancel));
    const swept = await sweepStaleContentScans({ staleSeconds: 60 });
    expect(swept.map((row) => row.sha256)).toContain(blobs.cancel);
    expect(await getContentScan(blobs.cancel)).toMatchObject({
      status: "failed",
      failureReason: STALE_CONTENT_SCAN_REASON,
    });
  });

  it("a time limit or a stopping worker ends the scan failed with the JobStopped reason", async () => {
    expect(await requestContentScan({ sha256: blobs.cancel })).toBe(true);
    const run = startJobRun("content.inspect", { limitMs: null });
    run.shutdown();
    const outcome = await runContentScan({ sha256: blobs.cancel }, { signal: run.signal });
    run.finish();
    expect(outcome).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/Hangar was stopped while this content inspection ran/),
    });
    expect(await getContentScan(blobs.cancel)).toMatchObject({
      status: "failed",
      failureReason: (outcome as { reason: string }).reason,
    });
    expect(existsSync(contentScanWorkDir(blobs.cancel))).toBe(false);
  });

  it("a blob no ready version holds fails with a reason, without a launch", async () => {
    const orphan = "f".repeat(64);
    await db().execute(
      sql`insert into blobs (sha256, sha512, size) values (${orphan}, ${"0".repeat(128)}, 1) on conflict do nothing`,
    );
    await db().insert(contentScans).values({ sha256: orphan }).onConflictDoNothing();
    expect(await runContentScan({ sha256: orphan })).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/No ready version holds these bytes/),
    });
  });
});
