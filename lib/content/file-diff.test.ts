// The file-level version diff end to end on two real tiny busybox guests: the real blob store,
// PostgreSQL, pg-boss (the action queues the job; the test runs it as the worker would) and real
// libguestfs. One full appliance launch compares the two guests (the "to" side is a linked clone,
// a qcow2 overlay read through its backing file); a second is cancelled seconds after it starts.
import { execFile } from "node:child_process";
import { access, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as diffRoute } from "@/app/api/diffs/[id]/route";
import { db } from "@/db/client";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { getFileDiff, STALE_DIFF_REASON } from "@/db/queries/version-diffs";
import { imageVersions, versionDiffs } from "@/db/schema";
import { cancelFileDiffAction, requestFileDiffAction } from "@/lib/actions/diff-actions";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { startJobRun } from "@/lib/jobs/job-run";
import { getBlobStore } from "@/lib/storage";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { createTestImage, createTestProject, createTestUser, storeTestBlob, viewerOf, waitFor } from "@/tests/fixtures";
import { diffWorkDir, runFileDiff, toStoredFiles, unifiedLineDiff } from "./file-diff";
import type { FileDiff } from "./types";

const run = promisify(execFile);

let current: Viewer | null = null;
vi.mock("@/lib/auth/session", () => ({ getViewer: async () => current }));

let owner: Viewer;
let outsider: Viewer;
let admin: Viewer;
/** Versions in the owner's private project: from (tiny guest A), to (a linked clone on guest B), same (A's bytes again). */
const ids = { from: "", to: "", same: "", notReady: "", hidden: "", lost: "" };
let diffId = "";

const diffCount = async () => (await db().select({ n: count() }).from(versionDiffs))[0]!.n;
const diffRow = async (id: string) => (await db().select().from(versionDiffs).where(eq(versionDiffs.id, id)))[0]!;

async function addVersion(
  imageId: string,
  label: string,
  blob: { sha256: string; sha512: string; size: number },
  extra: { format?: "qcow2" | "raw"; backingVersionId?: string } = {},
) {
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: owner.id,
      values: {
        imageId,
        version: label,
        format: extra.format ?? "qcow2",
        virtualSize: 32 * 1024 ** 2,
        fileSize: blob.size,
        sha256: blob.sha256,
        sha512: blob.sha512,
        releaseStatus: "approved",
        source: extra.backingVersionId ? "clone" : "upload",
        backingVersionId: extra.backingVersionId,
      },
    }),
  );
  return version.id;
}

beforeAll(async () => {
  [owner, outsider, admin] = await Promise.all([createTestUser(), createTestUser(), createTestUser({ role: "admin" })]);
  const projectId = (await createTestProject({ members: [{ viewer: owner, role: "owner" }] })).id;
  const otherProjectId = (await createTestProject({ members: [{ viewer: outsider, role: "owner" }] })).id;
  [owner, outsider, admin] = (await Promise.all([viewerOf(owner.id), viewerOf(outsider.id), viewerOf(admin.id)])) as [
    Viewer,
    Viewer,
    Viewer,
  ];

  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-file-diff-"));
  const [a, b] = await Promise.all([
    buildTinyGuest({
      dir,
      name: "diff-a",
      sizeMiB: 32,
      formats: ["qcow2"],
      extraFiles: {
        "/etc/motd": "hello\nworld\n",
        "/etc/removed.conf": "x=1\n",
        "/usr/lib/data.bin": "\u0000\u0001abc",
      },
    }),
    buildTinyGuest({
      dir,
      name: "diff-b",
      sizeMiB: 32,
      formats: ["qcow2"],
      extraFiles: {
        "/etc/motd": "hello\nthere\nworld\n",
        "/etc/added.txt": "new\n",
        "/usr/lib/data.bin": "\u0000\u0001abcdef",
      },
    }),
  ]);
  const image = await createTestImage({ projectId, versions: [], visibility: "private" });
  const blobA = await storeTestBlob(a.qcow2!);
  const blobB = await storeTestBlob(b.qcow2!);
  ids.from = await addVersion(image.id, "a", blobA);
  ids.same = await addVersion(image.id, "a-again", blobA);
  const baseB = await addVersion(image.id, "b", blobB);
  // A linked clone of B: a qcow2 overlay whose backing file is B's blob, with its format explicit.
  const overlay = path.join(dir, "linked.qcow2");
  await run("qemu-img", [
    "create",
    "-q",
    "-f",
    "qcow2",
    "-b",
    await getBlobStore().localPath(blobB.sha256),
    "-F",
    "qcow2",
    overlay,
  ]);
  ids.to = await addVersion(image.id, "b-linked", await storeTestBlob(overlay), { backingVersionId: baseB });
  ids.notReady = await addVersion(image.id, "importing", blobA);
  await db().update(imageVersions).set({ dataStatus: "importing" }).where(eq(imageVersions.id, ids.notReady));
  // Ready, but its bytes are not in the blob store (the fixture's sha256 is random).
  const lostImage = await createTestImage({ projectId, visibility: "private" });
  ids.lost = (await db().select().from(imageVersions).where(eq(imageVersions.imageId, lostImage.id)))[0]!.id;
  const hiddenImage = await createTestImage({ projectId: otherProjectId, visibility: "private" });
  ids.hidden = (await db().select().from(imageVersions).where(eq(imageVersions.imageId, hiddenImage.id)))[0]!.id;
}, 120_000);

afterAll(() => {
  current = null;
});

const expectedFiles: FileDiff[] = [
  {
    path: "/etc/added.txt",
    change: "added",
    type: "file",
    sizeBefore: null,
    sizeAfter: 4,
    lineDiff: "@@ -0,0 +1,1 @@\n+new",
  },
  {
    path: "/etc/motd",
    change: "changed",
    type: "file",
    sizeBefore: 12,
    sizeAfter: 18,
    details: ["content"],
    lineDiff: "@@ -1,2 +1,3 @@\n hello\n+there\n world",
  },
  { path: "/etc/removed.conf", change: "removed", type: "file", sizeBefore: 4, sizeAfter: null },
  { path: "/usr/lib/data.bin", change: "changed", type: "file", sizeBefore: 5, sizeAfter: 8, details: ["content"] },
];

describe("the file diff of two versions", () => {
  it("is queued by the action, and running it stores exactly the added, removed and changed files", async () => {
    const requested = await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.to });
    expect(requested).toMatchObject({ ok: true, data: { status: "queued", queued: true } });
    diffId = (requested as { data: { diffId: string } }).data.diffId;

    await runFileDiff({ diffId });
    const row = await diffRow(diffId);
    expect(row.failureReason).toBeNull();
    expect(row).toMatchObject({ status: "succeeded", processGroup: null });
    expect(row.files).toEqual(expectedFiles);
    await expect(access(diffWorkDir(diffId))).rejects.toThrow();

    const view = await getFileDiff({ viewer: owner, fromVersionId: ids.from, toVersionId: ids.to });
    expect(view).toMatchObject({ id: diffId, status: "succeeded", files: expectedFiles, omitted: 0, notes: [] });
  }, 900_000);

  it("returns the comparison already made for the same pair instead of queueing another", async () => {
    const before = await diffCount();
    const again = await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.to });
    expect(again).toEqual({ ok: true, data: { diffId, status: "succeeded", queued: false } });
    expect(await diffCount()).toBe(before);
  });

  it("is answered at once, empty, for two versions with the same bytes", async () => {
    const result = await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.same });
    expect(result).toMatchObject({ ok: true, data: { status: "succeeded", queued: false } });
    const view = await getFileDiff({ viewer: owner, fromVersionId: ids.from, toVersionId: ids.same });
    expect(view).toMatchObject({ status: "succeeded", files: [] });
  });

  it("is polled through its route by those who see both versions, and is a 404 for anyone else", async () => {
    current = owner;
    const seen = await diffRoute(new Request(`http://hangar.test/api/diffs/${diffId}`), {
      params: Promise.resolve({ id: diffId }),
    });
    expect(seen.status).toBe(200);
    expect(await seen.json()).toMatchObject({ id: diffId, status: "succeeded", files: expectedFiles });

    current = outsider;
    const hidden = await diffRoute(new Request(`http://hangar.test/api/diffs/${diffId}`), {
      params: Promise.resolve({ id: diffId }),
    });
    expect(hidden.status).toBe(404);
    const missingId = "00000000-0000-4000-8000-000000000000";
    const missing = await diffRoute(new Request(`http://hangar.test/api/diffs/${missingId}`), {
      params: Promise.resolve({ id: missingId }),
    });
    expect(missing.status).toBe(404);
    expect(await hidden.json()).toEqual(await missing.json());

    current = null;
    const anonymous = await diffRoute(new Request(`http://hangar.test/api/diffs/${diffId}`), {
      params: Promise.resolve({ id: diffId }),
    });
    expect(anonymous.status).toBe(401);
  });

  it("refuses a version with itself, a hidden version and one not ready, with clear words and nothing queued", async () => {
    const before = await diffCount();
    expect(await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.from })).toEqual({
      ok: false,
      code: "invalid",
      message: "A version compared with itself has no differences; pick two different versions.",
    });
    const hidden = await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.hidden });
    const missing = await requestFileDiffAction(owner, {
      fromVersionId: ids.from,
      toVersionId: "00000000-0000-4000-8000-000000000000",
    });
    expect(hidden).toEqual({
      ok: false,
      code: "not_found",
      message: "That version doesn't exist or you can't see it. Nothing was compared.",
    });
    expect(missing).toEqual(hidden);
    // Hidden on the other side too: the outsider sees only their own version.
    expect(await requestFileDiffAction(outsider, { fromVersionId: ids.hidden, toVersionId: ids.from })).toEqual(hidden);
    const notReady = await requestFileDiffAction(owner, { fromVersionId: ids.notReady, toVersionId: ids.to });
    expect(notReady).toMatchObject({ ok: false, code: "conflict" });
    expect((notReady as { message: string }).message).toMatch(
      /importing .*is still being imported.*Nothing was compared/,
    );
    expect(await diffCount()).toBe(before);
    // The page's read refuses a hidden pair the same way.
    await expect(getFileDiff({ viewer: outsider, fromVersionId: ids.from, toVersionId: ids.to })).rejects.toThrow(
      "That version doesn't exist or you can't see it.",
    );
  });

  it("cancels a running diff: its process group is gone, its work directory removed, nothing stored", async () => {
    const requested = await requestFileDiffAction(owner, { fromVersionId: ids.to, toVersionId: ids.from });
    expect(requested).toMatchObject({ ok: true, data: { queued: true } });
    const id = (requested as { data: { diffId: string } }).data.diffId;
    // Only the one who asked (and admins) may cancel it.
    expect(await cancelFileDiffAction(outsider, { diffId: id })).toMatchObject({ ok: false, code: "not_found" });

    const running = runFileDiff({ diffId: id });
    const started = await waitFor(
      () => diffRow(id),
      (row) => row.status === "running" && row.processGroup !== null,
      60_000,
    );
    const group = started.processGroup!;
    // Let the appliance start up, so there is a qemu to kill.
    await waitFor(
      async () => liveProcessesInGroup(group),
      (processes) => processes.some((line) => /qemu-system/.test(line)),
      120_000,
    );
    expect(await cancelFileDiffAction(owner, { diffId: id })).toEqual({ ok: true, data: { status: "running" } });
    await running;
    const row = await diffRow(id);
    expect(row).toMatchObject({ status: "cancelled", files: null, failureReason: "Cancelled while running." });
    expect(liveProcessesInGroup(group)).toEqual([]);
    await expect(access(diffWorkDir(id))).rejects.toThrow();
    // Cancelled: asking again queues a new one.
    const again = await requestFileDiffAction(owner, { fromVersionId: ids.to, toVersionId: ids.from });
    expect(again).toMatchObject({ ok: true, data: { queued: true } });
    const next = (again as { data: { diffId: string } }).data.diffId;
    expect(next).not.toBe(id);
    // A queued one is cancelled at once, here by an admin.
    expect(await cancelFileDiffAction(admin, { diffId: next })).toEqual({ ok: true, data: { status: "cancelled" } });
    expect(await diffRow(next)).toMatchObject({ status: "cancelled", failureReason: "Cancelled before it started." });
  }, 300_000);

  it("is stopped by its time limit: failed with the limit's words, its process group and work directory gone", async () => {
    // A pair not compared yet: the same bytes as the first diff, through the non-linked base of the clone.
    const requested = await requestFileDiffAction(owner, { fromVersionId: ids.same, toVersionId: ids.to });
    expect(requested).toMatchObject({ ok: true, data: { queued: true } });
    const id = (requested as { data: { diffId: string } }).data.diffId;
    const job = startJobRun("content.diff", { limitMs: 6000 });
    const running = runFileDiff({ diffId: id }, { signal: job.signal });
    const group = (await waitFor(
      () => diffRow(id),
      (row) => row.processGroup !== null,
      60_000,
    ))!.processGroup!;
    await running;
    job.finish();
    const row = await diffRow(id);
    expect(row).toMatchObject({ status: "failed", files: null });
    expect(row.failureReason).toMatch(/^Stopped after 6 seconds, the file comparison time limit \(HANGAR_JOB_TIMEOUT\)/);
    expect(liveProcessesInGroup(group)).toEqual([]);
    await expect(access(diffWorkDir(id))).rejects.toThrow();
  }, 120_000);

  it("fails with a readable reason when a version's file is missing, and may then be asked for again", async () => {
    const first = await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.lost });
    expect(first).toMatchObject({ ok: true, data: { queued: true } });
    const id = (first as { data: { diffId: string } }).data.diffId;
    await runFileDiff({ diffId: id });
    expect(await diffRow(id)).toMatchObject({
      status: "failed",
      files: null,
      failureReason:
        "The stored file of one of the versions is missing from the blob store; nothing could be compared. An admin should check the store.",
    });
    await expect(access(diffWorkDir(id))).rejects.toThrow();
    const again = await requestFileDiffAction(owner, { fromVersionId: ids.from, toVersionId: ids.lost });
    expect(again).toMatchObject({ ok: true, data: { status: "queued", queued: true } });
    expect((again as { data: { diffId: string } }).data.diffId).not.toBe(id);
    await cancelFileDiffAction(owner, { diffId: (again as { data: { diffId: string } }).data.diffId });
  });

  it("is ended by the sweep when its worker stops sending heartbeats", async () => {
    const [row] = await db()
      .insert(versionDiffs)
      .values({
        fromVersionId: ids.same,
        toVersionId: ids.to,
        status: "running",
        workerHost: os.hostname(),
        workerPid: 1,
        startedAt: new Date(Date.now() - 600_000),
        heartbeatAt: new Date(Date.now() - 600_000),
      })
      .returning({ id: versionDiffs.id });
    await sweepStaleBuilds({ staleSeconds: 60, log: () => {} });
    expect(await diffRow(row!.id)).toMatchObject({ status: "failed", failureReason: STALE_DIFF_REASON });
  });
});

describe("what the job stores", () => {
  it("keeps differences under the cap and says how many were left out, with the script's notes", () => {
    const stored = toStoredFiles({
      files: [{ path: "/a", change: "added", type: "file", sizeBefore: null, sizeAfter: 1 }],
      total: 3,
      truncated: true,
      notes: ["No operating system was found on the from image; its filesystems are compared as they are."],
    });
    expect(stored).toHaveLength(3);
    expect(stored[0]).toEqual({ path: "/a", change: "added", type: "file", sizeBefore: null, sizeAfter: 1 });
    expect(stored.slice(1).map((entry) => [entry.type, entry.omitted])).toEqual([
      ["note", undefined],
      ["note", 2],
    ]);
  });

  it("numbers an added or emptied file's hunk from line 0, as diff -u does", () => {
    expect(unifiedLineDiff("", "a\nb\n")).toBe("@@ -0,0 +1,2 @@\n+a\n+b");
    expect(unifiedLineDiff("a\n", "")).toBe("@@ -1,1 +0,0 @@\n-a");
  });

  it("cuts a very long line diff, and gives up in words on texts too different to compare in time", () => {
    const lines = (count: number, mark: (index: number) => string) =>
      Array.from({ length: count }, (_, index) => `line ${index}${mark(index)}`).join("\n");
    const long = unifiedLineDiff(
      lines(8000, () => ""),
      lines(8000, (index) => (index % 10 ? "" : " changed")),
    );
    expect(long.length).toBeLessThanOrEqual(64 * 1024 + 100);
    expect(long).toMatch(/the rest of the line diff is not shown/);
    const started = Date.now();
    const hopeless = unifiedLineDiff(
      lines(30_000, () => "a"),
      lines(30_000, () => "b"),
    );
    expect(hopeless).toBe("… (the files differ too much to be shown line by line)");
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
