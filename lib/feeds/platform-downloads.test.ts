// Platforms' download steps, run as the platforms run them: their own tools (curl, wget, qemu-img,
// OpenNebula's downloader pipeline) against a real HTTP server serving the feed handler, over a real
// qcow2 in the blob store. Each checks the size and hash of what arrived, not only the status.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { feedChangeEpoch } from "@/db/queries/feed-changes";
import { setImagePublishing } from "@/db/queries/feeds";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { blobs } from "@/db/schema";
import { changeReleaseAction } from "@/lib/actions/release-actions";
import { env } from "@/lib/env";
import { getBlobStore } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { handleFeedNode } from "./http";
import { createFeed } from "./service";

const exec = promisify(execFile);
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest("hex");

const MiB = 1024 * 1024;
const virtualSize = 16 * MiB;
let work: string;
let raw: Buffer;
let qcow2: Buffer;
let admin: Viewer;
let server: http.Server;
let feed: string;
let imageSlug: string;
let versionId: string;
let fileUrl: string;
/** What the server answered, per request: to see which requests a tool really made. */
const served: { method: string; path: string; range?: string; status: number }[] = [];

/** A ready, approved qcow2 version of `imageId` whose bytes are `qcow2` (stored once, shared). */
async function addVersion(imageId: string, version: string, createdAt: Date): Promise<string> {
  const row = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: admin.id,
      values: {
        imageId,
        version,
        format: "qcow2",
        virtualSize,
        fileSize: qcow2.length,
        sha256: hex("sha256", qcow2),
        sha512: hex("sha512", qcow2),
        releaseStatus: "approved",
        source: "upload",
        createdAt,
      },
    }),
  );
  // The md5 the background checksum job would have added.
  await db()
    .update(blobs)
    .set({ md5: hex("md5", qcow2) })
    .where(eq(blobs.sha256, hex("sha256", qcow2)));
  return row.id;
}

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  const project = await createTestProject({ members: [{ viewer: admin, role: "owner" }] });
  work = await mkdtemp(path.join(os.tmpdir(), "hangar-platforms-"));
  // 16 MiB of disk with data in three places (and holes between), made a qcow2 by qemu-img itself.
  raw = Buffer.alloc(virtualSize);
  for (const offset of [0, 5 * MiB + 123, virtualSize - MiB]) randomBytes(MiB).copy(raw, offset);
  await writeFile(path.join(work, "disk.raw"), raw);
  const file = path.join(work, "disk.qcow2");
  await exec("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", path.join(work, "disk.raw"), file]);
  qcow2 = await readFile(file);
  const temp = path.join(env().dataDir, unique("platforms-blob"));
  await copyFile(file, temp);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hex("sha256", qcow2), size: qcow2.length });

  const image = await createTestImage({ projectId: project.id, versions: [], name: "Platforms test" });
  imageSlug = image.slug;
  versionId = await addVersion(image.id, "1.0.0", new Date());
  await setImagePublishing({ viewer: admin, imageId: image.id, published: true, channels: ["latest"] });

  server = http.createServer((req, res) => {
    res.on("close", () =>
      served.push({ method: req.method!, path: req.url!, range: req.headers.range, status: res.statusCode }),
    );
    void handleFeedNode(req, res, { address: "198.51.100.9" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const made = await createFeed({ viewer: admin, name: unique("platforms"), projectSlug: project.slug });
  feed = `http://127.0.0.1:${(server.address() as AddressInfo).port}${new URL(made.url).pathname}`;
  fileUrl = `${feed}files/${versionId}/${imageSlug}-1.0.0.qcow2`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (work) await rm(work, { recursive: true, force: true });
});

/** Response headers of the last response curl printed with -I / -D, lower-cased names. */
function headersOf(text: string): { status: number; headers: Map<string, string> } {
  const blocks = text.trim().split(/\r?\n\r?\n/);
  const lines = blocks[blocks.length - 1]!.split(/\r?\n/);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(lines[0]!.split(" ")[1]), headers };
}

describe("platforms' downloads over HTTP", () => {
  it("Proxmox: curl -sfI answers 200 with length, type and a file name ending in .qcow2; then the download", async () => {
    const { stdout } = await exec("curl", ["-sfI", fileUrl]);
    const { status, headers } = headersOf(stdout);
    expect(status).toBe(200);
    expect(headers.get("content-length")).toBe(String(qcow2.length));
    expect(headers.get("content-type")).toBe("application/octet-stream");
    expect(headers.get("content-disposition")).toMatch(
      new RegExp(`^attachment; filename="${imageSlug}-1\\.0\\.0\\.qcow2"`),
    );
    expect(headers.get("accept-ranges")).toBe("bytes");

    const out = path.join(work, "proxmox.qcow2");
    await exec("curl", ["-sfL", "-o", out, fileUrl]);
    expect(hex("sha512", await readFile(out))).toBe(hex("sha512", qcow2));
  });

  it("KubeVirt CDI: a GET without Range is a 200 (not 206) with the whole file; sha256 matches", async () => {
    const out = path.join(work, "cdi.qcow2");
    const { stdout } = await exec("curl", ["-sfL", "-D", "-", "-o", out, fileUrl]);
    const { status, headers } = headersOf(stdout);
    expect(status).toBe(200);
    expect(headers.has("content-range")).toBe(false);
    const got = await readFile(out);
    expect(got.length).toBe(qcow2.length);
    expect(hex("sha256", got)).toBe(hex("sha256", qcow2));
  });

  it("OpenNebula: the downloader's sniffing GET then its full curl -L of appliance/<id>/download/0; md5 as indexed", async () => {
    const endpoint = `${feed}opennebula/`;
    const index = (await (await fetch(`${endpoint}/appliance`)).json()) as {
      appliances: { _id: { $oid: string }; files: { md5: string; size: number }[] }[];
    };
    const app = index.appliances.find((entry) => entry._id.$oid === versionId)!;
    expect(app.files[0]!.md5).toBe(hex("md5", qcow2));
    expect(app.files[0]!.size).toBe(virtualSize);
    const source = `${endpoint}appliance/${versionId}/download/0`;
    const out = path.join(work, "one.qcow2");
    const hashFile = path.join(work, "one.md5");
    // src/datastore_mad/remotes/downloader.sh: GLOBAL_CURL_ARGS, get_type (the first 1024 lines piped
    // to `file`), and the copy through `tee >(hasher md5)`. `file` stops reading early, so the sniffing
    // curl fails to write (23) and --retry-all-errors makes it ask 3 more times, 3 s apart: the driver
    // really does spend ~9 s and four cut-short GETs before the download.
    const script = `
      curl_args="--fail -sS -k -L --retry 3 --retry-delay 3 --retry-all-errors '${source}'"
      file_type=$( (eval "curl $curl_args" | head -n 1024 | file -b --mime-type -) 2>/dev/null )
      echo "type=$file_type"
      eval "curl $curl_args" | tee >(openssl dgst -md5 | awk '{print $NF}' > '${hashFile}') | cat > '${out}'
      status=("\${PIPESTATUS[@]}")
      for attempt in $(seq 100); do [ -s '${hashFile}' ] && break; sleep 0.05; done
      echo "status=\${status[*]}"
    `;
    const before = served.length;
    const { stdout } = await exec("bash", ["-c", script]);
    expect(stdout).toContain("status=0 0 0");
    // Not gzip, bzip2 or xz: the downloader copies it as it is ("cat").
    expect(stdout).not.toMatch(/type=application\/(x-)?(gzip|bzip2|xz)/);
    expect((await readFile(hashFile, "utf8")).trim()).toBe(app.files[0]!.md5);
    // At least the sniff and the copy asked the fixed path, each redirected to the file (the sniffs cut short).
    const asked = served.slice(before).filter((entry) => entry.path.endsWith(`/appliance/${versionId}/download/0`));
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked.every((entry) => entry.status === 302)).toBe(true);
    expect(
      served
        .slice(before)
        .filter((entry) => entry.path.includes("/files/"))
        .map((entry) => entry.status),
    ).toEqual(asked.map(() => 200));
    expect(hex("sha256", await readFile(out))).toBe(hex("sha256", qcow2));
  });

  it("wget: the file URL saves under the file's own name; sha512 matches", async () => {
    const dir = await mkdtemp(path.join(work, "wget-"));
    await exec("wget", ["-q", "--content-disposition", "-P", dir, fileUrl]);
    const got = await readFile(path.join(dir, `${imageSlug}-1.0.0.qcow2`));
    expect(got.length).toBe(qcow2.length);
    expect(hex("sha512", got)).toBe(hex("sha512", qcow2));
  });

  it("qemu-img over HTTP: info reads the virtual size, convert -O raw gives the original disk byte for byte", async () => {
    const before = served.length;
    const { stdout } = await exec("qemu-img", ["info", "--output=json", fileUrl]);
    const info = JSON.parse(stdout) as { format: string; "virtual-size": number };
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBe(virtualSize);
    const out = path.join(work, "converted.raw");
    await exec("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", fileUrl, out]);
    expect((await stat(out)).size).toBe(virtualSize);
    expect(hex("sha256", await readFile(out))).toBe(hex("sha256", raw));
    // qemu's curl driver reads in ranges, each answered 206.
    const reads = served.slice(before).filter((entry) => entry.method === "GET");
    expect(reads.length).toBeGreaterThan(1);
    for (const read of reads) {
      expect(read.range).toMatch(/^bytes=\d+-\d+$/);
      expect(read.status).toBe(206);
    }
  });

  // Both take a version out of every feed (lib/governance/release.ts: blocked statuses).
  it.each(["revoke", "disable"] as const)(
    "a version %sd mid-download: the transfer under way ends cleanly, the next listings drop it, a new GET is 404",
    async (action) => {
      const image = await createTestImage({
        projectId: (await createTestProject({ members: [{ viewer: admin, role: "owner" }] })).id,
        versions: [],
        name: `${action} mid-download`,
      });
      const older = await addVersion(image.id, "1.0.0", new Date(Date.now() - 60_000));
      const newer = await addVersion(image.id, "1.1.0", new Date());
      await setImagePublishing({ viewer: admin, imageId: image.id, published: true, channels: ["latest"] });
      const everything = await createFeed({ viewer: admin, name: unique(action) });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${new URL(everything.url).pathname}`;
      const newerUrl = `${base}files/${newer}/${image.slug}-1.1.0.qcow2`;
      const lookup = async () => (await fetch(`${base}channels/${image.slug}/latest.json`)).json();
      expect(await lookup()).toMatchObject({ version: { id: newer } });

      // A platform mid-download: it has read the first bytes and reads no more until the revocation
      // is done (a paused socket, so the rest waits in the connection), then reads to the end.
      const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(newerUrl, resolve).on("error", reject),
      );
      expect(response.statusCode).toBe(200);
      const chunks: Buffer[] = [];
      const ended = new Promise<"end" | "closed">((resolve) => {
        response.on("end", () => resolve("end"));
        response.on("error", () => resolve("closed"));
      });
      const first = await new Promise<Buffer>((resolve) => response.once("data", resolve));
      response.pause();
      chunks.push(first);
      expect(first.length).toBeLessThan(qcow2.length);

      const epoch = await feedChangeEpoch();
      const revoked = await changeReleaseAction(admin, { versionId: newer, action, reason: "Broken" });
      expect(revoked.ok).toBe(true);
      // The cache learns of the change by a notification after the commit: wait for that, not longer.
      for (let attempt = 0; (await feedChangeEpoch()) === epoch; attempt += 1) {
        if (attempt > 100) throw new Error("no hangar_feeds notification arrived");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const index = await (await fetch(`${base}opennebula//appliance`)).text();
      expect(index).not.toContain(newer);
      expect(index).toContain(older);
      const streams = (await (await fetch(`${base}streams/v1/index.json`)).json()) as {
        index: Record<string, { path: string }>;
      };
      for (const entry of Object.values(streams.index)) {
        const products = await (await fetch(base + entry.path)).text();
        expect(products).not.toContain(newer);
      }
      expect(JSON.stringify(streams)).toContain("hangar:latest");
      expect(await lookup()).toMatchObject({ version: { id: older } });
      expect((await fetch(newerUrl, { method: "HEAD" })).status).toBe(404);
      expect((await fetch(newerUrl)).status).toBe(404);
      expect((await fetch(`${base}opennebula/appliance/${newer}/download/0`, { redirect: "manual" })).status).toBe(404);
      expect((await fetch(`${base}opennebula/appliance/${newer}`, { redirect: "manual" })).status).toBe(404);

      // Bytes already being sent may finish; if they do, they are the file, whole.
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.resume();
      const how = await ended;
      const received = Buffer.concat(chunks);
      if (how === "end") expect(hex("sha256", received)).toBe(hex("sha256", qcow2));
      else expect(received.length).toBeLessThan(qcow2.length);
    },
    60_000,
  );
});
