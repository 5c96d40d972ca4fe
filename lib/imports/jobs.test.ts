// URL imports and conversions end to end through the real job queue (pg-boss on the test
// PostgreSQL) and a real worker, with real files served from loopback.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, utimes, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { conversions, imageVersions, projects } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import {
  requestConversionAction as requestVersionConversion,
  startUrlImportAction as startUrlImport,
} from "@/lib/actions/import-actions";
import { env } from "@/lib/env";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { jobHandlers } from "@/lib/jobs/handlers";
import { startWorker, type Worker } from "@/lib/jobs/queue";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { reconcileStorage } from "./reconcile";

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
let server: http.Server;
let port = 0;
let worker: Worker;
let member: Viewer;
let projectId: string;
let imageId: string;
let qcow2: Buffer;
let backed: Buffer;

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const versionRow = async (versionId: string) =>
  (
    await db()
      .select({
        dataStatus: imageVersions.dataStatus,
        failureReason: imageVersions.failureReason,
        sha256: imageVersions.sha256,
        format: imageVersions.format,
      })
      .from(imageVersions)
      .where(eq(imageVersions.id, versionId))
  )[0]!;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-jobs-"));
  const guest = await buildTinyGuest({ dir, name: "jobs", sizeMiB: 16, formats: ["raw", "qcow2"] });
  qcow2 = await readFile(guest.qcow2!);
  await run("qemu-img", [
    "create",
    "-q",
    "-f",
    "qcow2",
    "-u",
    "-F",
    "raw",
    "-b",
    "/etc/passwd",
    path.join(dir, "backed.qcow2"),
    "1M",
  ]);
  backed = await readFile(path.join(dir, "backed.qcow2"));
  server = http.createServer((request, response) => {
    if (request.url === "/guest.qcow2") response.writeHead(200, { "content-length": qcow2.length }).end(qcow2);
    else if (request.url === "/backed.qcow2") response.writeHead(200).end(backed);
    else if (request.url === "/endless") {
      // No Content-Length: the size is only discovered as bytes arrive.
      response.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 1);
      const timer = setInterval(() => (response.writableEnded ? clearInterval(timer) : response.write(chunk)), 1);
      response.on("close", () => clearInterval(timer));
    } else response.writeHead(404).end();
  });
  port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
  // What an admin would configure to import from an internal mirror.
  process.env.HANGAR_URL_IMPORT_ALLOW_ADDRESSES = "127.0.0.1";
  process.env.HANGAR_URL_IMPORT_PORTS = String(port);
  worker = await startWorker({ handlers, concurrency: 2, log: () => {} });
  member = await createTestUser();
  projectId = (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id;
  imageId = (await createTestImage({ projectId, versions: [] })).id;
});

afterAll(async () => {
  await worker?.stop();
  server?.close();
  delete process.env.HANGAR_URL_IMPORT_ALLOW_ADDRESSES;
  delete process.env.HANGAR_URL_IMPORT_PORTS;
});

describe("URL import through the job queue", () => {
  it("downloads, inspects, hashes and stores a real image", async () => {
    const started = await startUrlImport(member, {
      imageId,
      version: unique("v"),
      url: `http://127.0.0.1:${port}/guest.qcow2`,
      format: "qcow2",
    });
    if (!started.ok) throw new Error(started.message);
    const version = await waitFor(
      () => versionRow(started.data.versionId),
      (row) => row.dataStatus === "ready" || row.dataStatus === "failed",
    );
    expect(version).toMatchObject({
      dataStatus: "ready",
      format: "qcow2",
      sha256: createHash("sha256").update(qcow2).digest("hex"),
    });
    expect(await getBlobStore().stat(version.sha256!)).toEqual({ size: qcow2.length });
  });

  it("refuses a hostile file with its reason and keeps nothing", async () => {
    const started = await startUrlImport(member, {
      imageId,
      version: unique("v"),
      url: `http://127.0.0.1:${port}/backed.qcow2`,
    });
    if (!started.ok) throw new Error(started.message);
    const version = await waitFor(
      () => versionRow(started.data.versionId),
      (row) => row.dataStatus === "failed" || row.dataStatus === "ready",
    );
    expect(version.dataStatus).toBe("failed");
    expect(version.failureReason).toMatch(/backing file/);
    expect(version.sha256).toBeNull();
  });

  it("refuses internal addresses before queueing anything, with a reason", async () => {
    const result = await startUrlImport(member, {
      imageId,
      version: unique("v"),
      url: "http://169.254.169.254/latest/meta-data/",
    });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok) expect(result.fieldErrors?.url?.[0]).toMatch(/private or internal address/);
    const other = await startUrlImport(member, { imageId, version: unique("v"), url: "file:///etc/passwd" });
    expect(other).toMatchObject({ ok: false, code: "invalid" });
  });

  it("stops a download that passes the project's quota while the bytes arrive, keeping nothing", async () => {
    const quotaProject = await createTestProject({ members: [{ viewer: member, role: "member" }] });
    await db()
      .update(projects)
      .set({ quotaBytes: 2 * 1024 * 1024 })
      .where(eq(projects.id, quotaProject.id));
    const quotaImage = await createTestImage({ projectId: quotaProject.id, versions: [] });
    const started = await startUrlImport(member, {
      imageId: quotaImage.id,
      version: unique("v"),
      url: `http://127.0.0.1:${port}/endless`,
    });
    if (!started.ok) throw new Error(started.message);
    const version = await waitFor(
      () => versionRow(started.data.versionId),
      (row) => row.dataStatus === "failed" || row.dataStatus === "ready",
    );
    expect(version.failureReason).toMatch(/passed the project's free quota/);
    const leftovers = await readdir(path.join(env().dataDir, "tmp")).catch(() => []);
    expect(leftovers.filter((name) => name.startsWith("url-"))).toEqual([]);
  });

  it("refuses a file that doesn't fit the quota others have reserved, as an upload would be, and keeps nothing", async () => {
    const quotaProject = await createTestProject({ members: [{ viewer: member, role: "member" }] });
    // Larger than the guest's 16 MiB virtual size, so only the free bytes can refuse it.
    const quotaBytes = 32 * 1024 * 1024;
    await db().update(projects).set({ quotaBytes }).where(eq(projects.id, quotaProject.id));
    const quotaImage = await createTestImage({ projectId: quotaProject.id, versions: [] });
    // An upload in flight holds its declared size: one byte less than the file is left.
    await db()
      .insert(imageVersions)
      .values({
        imageId: quotaImage.id,
        version: unique("v"),
        source: "upload",
        dataStatus: "uploading",
        bytesTotal: quotaBytes - qcow2.length + 1,
      });
    const started = await startUrlImport(member, {
      imageId: quotaImage.id,
      version: unique("v"),
      url: `http://127.0.0.1:${port}/guest.qcow2`,
    });
    if (!started.ok) throw new Error(started.message);
    const version = await waitFor(
      () => versionRow(started.data.versionId),
      (row) => row.dataStatus === "failed" || row.dataStatus === "ready",
    );
    expect(version).toMatchObject({ dataStatus: "failed", sha256: null, format: null });
    expect(version.failureReason).toMatch(
      /^This file \([0-9.]+ [KM]iB\) does not fit in the project's storage quota: [0-9.]+ [KM]iB of [0-9.]+ [KM]iB is free\. Delete old versions or ask an admin for more quota\.$/,
    );
    const [received] = await db()
      .select({ bytesReceived: imageVersions.bytesReceived })
      .from(imageVersions)
      .where(eq(imageVersions.id, started.data.versionId));
    expect(received!.bytesReceived).toBe(0);
    const leftovers = await readdir(path.join(env().dataDir, "tmp")).catch(() => []);
    expect(leftovers.filter((name) => name.startsWith("url-"))).toEqual([]);
  });

  it("refuses imports into images the caller can't write to", async () => {
    const stranger = await createTestUser();
    // The image is private to another project: to a stranger it doesn't exist.
    expect(
      await startUrlImport(stranger, { imageId, version: unique("v"), url: `http://127.0.0.1:${port}/guest.qcow2` }),
    ).toMatchObject({ ok: false, code: "not_found" });
    expect(
      await startUrlImport(null, { imageId, version: unique("v"), url: `http://127.0.0.1:${port}/guest.qcow2` }),
    ).toMatchObject({ ok: false, code: "unauthenticated" });
  });
});

describe("conversions through the job queue", () => {
  it("converts once per format, caches the result as a blob, and the output is what was asked for", async () => {
    const started = await startUrlImport(member, {
      imageId,
      version: unique("v"),
      url: `http://127.0.0.1:${port}/guest.qcow2`,
    });
    if (!started.ok) throw new Error(started.message);
    await waitFor(
      () => versionRow(started.data.versionId),
      (row) => row.dataStatus === "ready",
    );
    const requested = await requestVersionConversion(member, { versionId: started.data.versionId, format: "vhdx" });
    if (!requested.ok) throw new Error(requested.message);
    const conversion = await waitFor(
      async () => (await db().select().from(conversions).where(eq(conversions.id, requested.data.conversionId)))[0]!,
      (row) => row.status === "succeeded" || row.status === "failed",
    );
    expect(conversion).toMatchObject({ status: "succeeded", progress: 100 });
    const output = await getBlobStore().localPath(conversion.sha256!);
    const { stdout } = await run("qemu-img", ["info", "--output=json", "-f", "vhdx", output]);
    expect(JSON.parse(stdout)).toMatchObject({ format: "vhdx", "virtual-size": 16 * 1024 * 1024 });
    const again = await requestVersionConversion(member, { versionId: started.data.versionId, format: "vhdx" });
    expect(again).toMatchObject({ ok: true, data: { conversionId: requested.data.conversionId } });
    expect(
      await requestVersionConversion(member, { versionId: started.data.versionId, format: "qcow2" }),
    ).toMatchObject({ ok: false, code: "invalid" });
    const stranger = await createTestUser();
    expect(
      await requestVersionConversion(stranger, { versionId: started.data.versionId, format: "raw" }),
    ).toMatchObject({ ok: false, code: "not_found" });
  });
});

describe("start-up reconciliation", () => {
  it("removes stale temp files and unreferenced blobs, and fails imports interrupted mid-way", async () => {
    const tmp = path.join(env().dataDir, "tmp");
    await mkdir(tmp, { recursive: true });
    const stale = path.join(tmp, "url-stale");
    await writeFile(stale, "partial");
    const old = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(stale, old, old);
    const fresh = path.join(tmp, "url-fresh");
    await writeFile(fresh, "being written");
    const orphanBytes = Buffer.from(unique("orphan"));
    const orphanSha = createHash("sha256").update(orphanBytes).digest("hex");
    const orphanTemp = path.join(tmp, "orphan-blob");
    await writeFile(orphanTemp, orphanBytes);
    await getBlobStore().putFromTempFile({ tempPath: orphanTemp, sha256: orphanSha, size: orphanBytes.length });
    const [interrupted] = await db()
      .insert(imageVersions)
      .values({ imageId, version: unique("v"), source: "upload", dataStatus: "importing" })
      .returning({ id: imageVersions.id });

    const report = await reconcileStorage();
    expect(report.removedBlobs).toBeGreaterThanOrEqual(1);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(await getBlobStore().stat(orphanSha)).toBeNull();
    expect((await versionRow(interrupted!.id)).dataStatus).toBe("failed");
    expect((await versionRow(interrupted!.id)).failureReason).toMatch(/server stopped/);
  });
});
