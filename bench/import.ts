// Import benchmark: a 2 GiB random file uploaded over loopback HTTP (tus) to the real app until the
// version is ready, against what the same bytes cost the native tools in the same run:
//   A_serial = size / (openssl sha256 + openssl sha512 + cp&sync), A_ideal = size / max(of those).
// Interleaved rounds, medians. Also the server's memory growth during uploads, and conversion: our
// job against what a careful operator does for a durable file, `qemu-img convert` then `sync` (as
// the cp&sync above; without the sync it would time writing into the page cache against a job
// that pays for durability), and the output's allocated size.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { closeDb, db } from "../db/client";
import { freePort, startEmbeddedPostgres } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { createImage } from "../db/queries/images";
import { blobs, conversions, imageVersions, projectMembers, projects } from "../db/schema";
import { ensureAdmin } from "../db/seed";
import { runConversion } from "../lib/imports/convert";
import { getBlobStore } from "../lib/storage";
import { type BenchRow, median } from "./report";

const exec = promisify(execFile);
const SIZE = Number(process.env.BENCH_IMPORT_BYTES ?? 2 * 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_IMPORT_ROUNDS ?? 5);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

// The client shares the two cores with the server it measures, so it sends the file the cheap way:
// two reused 8 MiB buffers, each refilled from the page cache once the socket has taken it, rather
// than a stream of fresh 1 MiB buffers for the garbage collector.
const SEND_BUFFER_BYTES = 8 * 1024 * 1024;

export async function sendFile(req: http.ClientRequest, file: string, size: number): Promise<void> {
  const fd = openSync(file, "r");
  try {
    const buffers = [Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES), Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES)];
    const flushed: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
    for (let sent = 0, turn = 0; sent < size; turn ^= 1) {
      await flushed[turn];
      const buffer = buffers[turn]!;
      const length = readSync(fd, buffer, 0, Math.min(buffer.length, size - sent), sent);
      if (length === 0) throw new Error(`${file} ended early`);
      sent += length;
      flushed[turn] = new Promise((resolve, reject) =>
        req.write(buffer.subarray(0, length), (error) => (error ? reject(error) : resolve())),
      );
    }
    await Promise.all(flushed);
    req.end();
  } finally {
    closeSync(fd);
  }
}

export function request(
  options: http.RequestOptions,
  body?: { file: string; size: number } | string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    if (body && typeof body !== "string")
      sendFile(req, body.file, body.size).catch((error: Error) => req.destroy(error));
    else req.end(body);
  });
}

export class Cookies {
  private jar = new Map<string, string>();
  take(headers: http.IncomingHttpHeaders) {
    for (const line of headers["set-cookie"] ?? []) {
      const [pair] = line.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (name) this.jar.set(name.trim(), value.join("="));
    }
  }
  header() {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/**
 * Resident memory of a process and all its descendants, in bytes, read from /proc. Not from `ps`:
 * this process is also the upload's client, and forking `ps` ten times a second stalls its event
 * loop, which slowed the very upload being measured two to four times. The tree is walked through
 * /proc/<pid>/task/<tid>/children with synchronous reads: reading every process's stat through the
 * thread pool ten times a second made the client (together with its old read stream) use about as
 * much CPU as the server it measures.
 */
function treeRss(pid: number): number {
  const pageSize = 4096;
  let total = 0;
  const queue = [pid];
  for (let process = queue.pop(); process !== undefined; process = queue.pop()) {
    try {
      // Fields after the parenthesised command name: state ppid ... rss is the 22nd of them.
      const stat = readFileSync(`/proc/${process}/stat`, "utf8");
      total += Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[21]) * pageSize;
      for (const task of readdirSync(`/proc/${process}/task`)) {
        for (const child of readFileSync(`/proc/${process}/task/${task}/children`, "utf8").split(" ").filter(Boolean))
          queue.push(Number(child));
      }
    } catch {
      // The process ended between listing and reading: it holds no memory any more.
    }
  }
  return total;
}

export async function startApp(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.on("data", () => {});
  child.stdout?.on("data", () => {});
  for (let attempt = 0; attempt < 240; attempt += 1) {
    const ok = await request({ host: "127.0.0.1", port, path: "/sign-in" }).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill("SIGTERM");
  throw new Error("the app did not start");
}

/**
 * The app on `port` over a bench's own database and data directory, without the demo. `workers` 0
 * keeps the jobs an upload queues (a content scan boots a libguestfs appliance) from running in the
 * middle of the next measurement.
 */
export function startBenchApp({
  database,
  dataDir,
  password,
  port,
  workers = 1,
}: {
  database: { url: string };
  dataDir: string;
  password: string;
  port: number;
  workers?: number;
}): Promise<ChildProcess> {
  const origin = `http://127.0.0.1:${port}`;
  return startApp(
    {
      ...process.env,
      DATABASE_URL: database.url,
      HANGAR_DATA_DIR: dataDir,
      PORT: String(port),
      AUTH_URL: origin,
      HANGAR_SEED_DEMO: "false",
      HANGAR_ADMIN_EMAIL: "bench@hangar.local",
      HANGAR_ADMIN_PASSWORD: password,
      HANGAR_WORKER_CONCURRENCY: String(workers),
    },
    port,
  );
}

/**
 * The browser's tus upload of a whole file: one POST to create it, one PATCH with every byte (the
 * import page's chunk is larger than any bench file). `auth` is the session cookie or a bearer token.
 */
export async function tusUploadWhole({
  port,
  auth,
  imageId,
  version,
  file,
  size,
}: {
  port: number;
  auth: Record<string, string>;
  imageId: string;
  version: string;
  file: string;
  size: number;
}): Promise<void> {
  const metadata = { imageId, version, format: "raw" };
  const created = await request({
    host: "127.0.0.1",
    port,
    path: "/api/uploads",
    method: "POST",
    headers: {
      ...auth,
      "Tus-Resumable": "1.0.0",
      "Upload-Length": String(size),
      "Upload-Metadata": Object.entries(metadata)
        .map(([key, value]) => `${key} ${Buffer.from(value).toString("base64")}`)
        .join(","),
    },
  });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const location = String(created.headers.location);
  const done = await request(
    {
      host: "127.0.0.1",
      port,
      path: location.startsWith("http") ? new URL(location).pathname : location,
      method: "PATCH",
      headers: {
        ...auth,
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": String(size),
      },
    },
    { file, size },
  );
  if (done.status !== 204) throw new Error(`upload failed: ${done.status} ${done.text}`);
}

/**
 * A bench's own world: an embedded PostgreSQL in a fresh folder, migrated, with an admin who owns a
 * project "bench" (1 TiB quota) holding the image "bench-image". The caller stops `database`.
 */
export async function startUploadBench(prefix: string) {
  const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), prefix));
  await chmod(work, 0o755); // the embedded PostgreSQL runs as another user and must reach its folder
  const dataDir = path.join(work, "data");
  const database = await startEmbeddedPostgres({ dataDir: path.join(work, "pg") });
  process.env.DATABASE_URL = database.url;
  process.env.HANGAR_DATA_DIR = dataDir;
  await applyMigrations(database.url);
  const password = `bench-${Math.random().toString(36).slice(2)}-password`;
  const adminId = await ensureAdmin({ email: "bench@hangar.local", password, log: () => {} });
  const [project] = await db()
    .insert(projects)
    .values({ slug: "bench", name: "Bench", quotaBytes: 1024 ** 4 })
    .returning({ id: projects.id });
  await db().insert(projectMembers).values({ projectId: project!.id, userId: adminId, role: "owner" });
  const image = await db().transaction((tx) =>
    createImage({
      tx,
      actorId: adminId,
      values: { slug: "bench-image", name: "Bench image", os: "Linux", projectId: project!.id },
    }),
  );
  return {
    work,
    dataDir,
    source: path.join(work, "random.img"),
    database,
    password,
    adminId,
    project: project!,
    image,
  };
}

export async function run(): Promise<BenchRow[]> {
  const { work, dataDir, source, database, password, image } = await startUploadBench("hangar-bench-import-");
  let app: ChildProcess | undefined;
  try {
    console.log(`Writing ${SIZE} random bytes...`);
    await exec("sh", ["-c", `head -c ${SIZE} /dev/urandom > '${source}'`]);

    const port = await freePort();
    app = await startApp(
      {
        ...process.env,
        DATABASE_URL: database.url,
        HANGAR_DATA_DIR: dataDir,
        PORT: String(port),
        HANGAR_SEED_DEMO: "false",
        HANGAR_ADMIN_EMAIL: "bench@hangar.local",
        HANGAR_ADMIN_PASSWORD: password,
        HANGAR_WORKER_CONCURRENCY: "1",
      },
      port,
    );
    const cookies = new Cookies();
    const csrf = await request({ host: "127.0.0.1", port, path: "/api/auth/csrf" });
    cookies.take(csrf.headers);
    const signedIn = await request(
      {
        host: "127.0.0.1",
        port,
        path: "/api/auth/callback/credentials",
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.header() },
      },
      new URLSearchParams({
        csrfToken: (JSON.parse(csrf.text) as { csrfToken: string }).csrfToken,
        email: "bench@hangar.local",
        password,
      }).toString(),
    );
    cookies.take(signedIn.headers);

    const upload = (round: number, size = SIZE) =>
      tusUploadWhole({
        port,
        auth: { cookie: cookies.header() },
        imageId: image.id,
        version: `r${round}-${Date.now()}`,
        file: source,
        size,
      });

    // Warm the route first: loading its modules is start-up cost, not upload memory.
    await upload(-1, 1024 * 1024);

    const serial: number[] = [];
    const ideal: number[] = [];
    const ours: number[] = [];
    const rssGrowth: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      await exec("sync");
      const sha256 = await timed(() => exec("openssl", ["dgst", "-sha256", source]));
      const sha512 = await timed(() => exec("openssl", ["dgst", "-sha512", source]));
      const copy = path.join(work, "copy.img");
      const cp = await timed(async () => {
        await exec("cp", [source, copy]);
        await exec("sync");
      });
      await rm(copy, { force: true });
      serial.push(SIZE / (sha256 + sha512 + cp));
      ideal.push(SIZE / Math.max(sha256, sha512, cp));

      await exec("sync");
      const baseline = treeRss(app.pid!);
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, treeRss(app!.pid!))), 100);
      const seconds = await timed(() => upload(round));
      clearInterval(sampler);
      ours.push(SIZE / seconds);
      rssGrowth.push(peak - baseline);
      console.log(
        `round ${round + 1}: ours ${(SIZE / seconds / 1e6).toFixed(0)} MB/s; sha256 ${sha256.toFixed(2)}s sha512 ${sha512.toFixed(2)}s cp+sync ${cp.toFixed(2)}s; rss +${((peak - baseline) / 1024 ** 2).toFixed(0)} MiB`,
      );
    }
    const [ready] = await db()
      .select({ sha256: imageVersions.sha256 })
      .from(imageVersions)
      .where(eq(imageVersions.dataStatus, "ready"))
      .limit(1);
    if (!ready) throw new Error("no upload reached ready");

    // Conversion: our job against bare qemu-img on the same input.
    const convertSource = path.join(work, "convert-src.qcow2");
    await exec("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", source, convertSource]);
    const { stdout: info } = await exec("qemu-img", ["info", "--output=json", "-f", "qcow2", convertSource]);
    const sourceAllocated = (JSON.parse(info) as { "actual-size": number })["actual-size"];
    const convertRounds: { ours: number; bare: number; allocated: number }[] = [];
    const bareOut = path.join(work, "bare.vhdx");
    const hashes = await exec("openssl", ["dgst", "-sha256", "-r", convertSource]);
    const convertSha = hashes.stdout.split(" ")[0]!;
    const sha512 = (await exec("openssl", ["dgst", "-sha512", "-r", convertSource])).stdout.split(" ")[0]!;
    const copied = path.join(dataDir, "tmp-convert-source");
    await exec("cp", [convertSource, copied]);
    await getBlobStore().putFromTempFile({
      tempPath: copied,
      sha256: convertSha,
      size: (await stat(convertSource)).size,
    });
    await db()
      .insert(blobs)
      .values({ sha256: convertSha, sha512, size: (await stat(convertSource)).size })
      .onConflictDoNothing();
    const [version] = await db()
      .insert(imageVersions)
      .values({
        imageId: image.id,
        version: `convert-${Date.now()}`,
        source: "upload",
        dataStatus: "ready",
        format: "qcow2",
        sha256: convertSha,
        sha512,
        fileSize: (await stat(convertSource)).size,
        virtualSize: SIZE,
      })
      .returning({ id: imageVersions.id });
    for (let round = 0; round < Math.min(ROUNDS, 3); round += 1) {
      await exec("sync");
      const bare = await timed(async () => {
        await exec("qemu-img", ["convert", "-f", "qcow2", "-O", "vhdx", convertSource, bareOut]);
        await exec("sync");
      });
      await rm(bareOut, { force: true });
      await db().delete(conversions).where(eq(conversions.versionId, version!.id));
      const [conversion] = await db()
        .insert(conversions)
        .values({ versionId: version!.id, targetFormat: "vhdx" })
        .returning({ id: conversions.id });
      await exec("sync");
      const ourSeconds = await timed(() => runConversion({ conversionId: conversion!.id }));
      const [done] = await db().select().from(conversions).where(eq(conversions.id, conversion!.id));
      if (done?.status !== "succeeded" || !done.sha256) throw new Error(`conversion failed: ${done?.failureReason}`);
      const { stdout: du } = await exec("du", ["-B1", await getBlobStore().localPath(done.sha256)]);
      convertRounds.push({ ours: ourSeconds, bare, allocated: Number(du.split("\t")[0]) });
      await getBlobStore().delete(done.sha256);
    }

    const ourRate = median(ours);
    const rows: BenchRow[] = [
      {
        metric: "import_vs_serial",
        value: ourRate / 1e6,
        unit: "MB/s",
        anchor: median(serial) / 1e6,
        ratio: ourRate / median(serial),
        target: ">= 1.0",
        pass: ourRate / median(serial) >= 1.0,
      },
      {
        metric: "import_vs_ideal",
        value: ourRate / 1e6,
        unit: "MB/s",
        anchor: median(ideal) / 1e6,
        ratio: ourRate / median(ideal),
        target: ">= 0.6",
        pass: ourRate / median(ideal) >= 0.6,
      },
      {
        metric: "upload_rss_growth",
        value: Math.max(...rssGrowth) / 1024 ** 2,
        unit: "MiB",
        anchor: 64,
        ratio: Math.max(...rssGrowth) / (64 * 1024 ** 2),
        target: "<= 64 MiB",
        pass: Math.max(...rssGrowth) <= 64 * 1024 ** 2,
      },
      {
        metric: "convert_vs_qemu_img",
        value: median(convertRounds.map((round) => round.ours)),
        unit: "s",
        anchor: median(convertRounds.map((round) => round.bare)),
        ratio: median(convertRounds.map((round) => round.ours)) / median(convertRounds.map((round) => round.bare)),
        target: "<= 1.15",
        pass:
          median(convertRounds.map((round) => round.ours)) / median(convertRounds.map((round) => round.bare)) <= 1.15,
      },
      {
        metric: "convert_allocated_ratio",
        value: median(convertRounds.map((round) => round.allocated)) / 1024 ** 2,
        unit: "MiB",
        anchor: sourceAllocated / 1024 ** 2,
        ratio: median(convertRounds.map((round) => round.allocated)) / sourceAllocated,
        target: "<= 1.05",
        pass: median(convertRounds.map((round) => round.allocated)) / sourceAllocated <= 1.05,
      },
    ];
    return rows;
  } finally {
    app?.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await closeDb();
    await database.stop();
    await rm(work, { recursive: true, force: true });
  }
}
