// Load and fault benchmark: a real Hangar (scripts/start.ts as a child process, its own data
// directory, port and embedded PostgreSQL) on loopback, with
//   - concurrent tus uploads of random files while concurrent readers page and search the catalog;
//     catalog p95 under that load against p95 on the otherwise idle server (one reader), measured
//     first in the same run, and against the same readers without uploads;
//   - the server killed with SIGKILL mid-run and started again: every upload resumes (tus HEAD for
//     the offset, then PATCH from there) and must end ready with its own sha256;
//   - PostgreSQL stopped mid-run: the bench stops the embedded postmaster (SIGINT, PostgreSQL's
//     fast shutdown) and holds its port for BENCH_LOAD_OUTAGE_SECONDS, so the supervisor's restart
//     attempts fail until then and it brings the database back itself; reads meanwhile must be clear
//     503s, and nothing may be half-written.
// Uploads are paced to finish at about 80% of the run so both faults hit them in flight; a resumed
// upload catches up at full speed. Afterwards the blob store, the temp directories and the database
// are checked against each other. Sizes and durations come from BENCH_LOAD_* (see the README).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { and, eq, inArray } from "drizzle-orm";
import { closeDb, db } from "../db/client";
import { freePort, processAlive } from "../db/embedded";
import { createImage, createReadyVersion } from "../db/queries/images";
import { blobs, imageVersions, projectMembers, projects, users } from "../db/schema";
import { getBlobStore } from "../lib/storage";
import { Cookies } from "./import";
import { type BenchRow } from "./report";

const exec = promisify(execFile);
const MiB = 1024 ** 2;

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}".`);
  return value;
}

const UPLOADS = setting("BENCH_LOAD_UPLOADS", 10);
const UPLOAD_BYTES = Math.round(setting("BENCH_LOAD_UPLOAD_MIB", 256) * MiB);
const READERS = setting("BENCH_LOAD_READERS", 50);
const LOAD_SECONDS = setting("BENCH_LOAD_SECONDS", 60);
const IDLE_SECONDS = setting("BENCH_LOAD_IDLE_SECONDS", 10);
const OUTAGE_SECONDS = setting("BENCH_LOAD_OUTAGE_SECONDS", 10);
const CATALOG_IMAGES = setting("BENCH_LOAD_IMAGES", 300);
// After the run, uploads get this long to finish before the ones still going count as lost.
const FINISH_TIMEOUT_MS = setting("BENCH_LOAD_FINISH_TIMEOUT_SECONDS", 600) * 1000;
const PACE_FRACTION = 0.8;

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const benchStart = performance.now();
const say = (line: string) =>
  console.log(`[${((performance.now() - benchStart) / 1000).toFixed(1).padStart(6)} s] ${line}`);

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Resident memory of one process, in bytes (the Hangar process itself, not its PostgreSQL). */
function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(port: number, options: http.RequestOptions, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, ...options }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error("no answer in 120 s")));
    req.on("error", reject);
    req.end(body);
  });
}

// --- the server under test ------------------------------------------------------------------

interface Hangar {
  child: ChildProcess;
  readyAt: number;
  output: string[];
}

async function startHangar(env: NodeJS.ProcessEnv, port: number): Promise<Hangar> {
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      output.push(line);
      if (/\[hangar\].*(PostgreSQL|database|Reconciled|ready)|postgres:/i.test(line))
        say(`server: ${line.replace(/^\[hangar\] /, "")}`);
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`Hangar exited while starting:\n${output.slice(-20).join("\n")}`);
    const ok = await send(port, { path: "/api/health" }).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (ok) return { child, readyAt: performance.now(), output };
    await sleep(250);
  }
  child.kill("SIGKILL");
  throw new Error(`Hangar did not start in 150 s:\n${output.slice(-20).join("\n")}`);
}

// --- readers ----------------------------------------------------------------------------------

interface Read {
  start: number;
  end: number;
  status: number; // 0: no answer (connection refused or reset)
  databaseUnavailable: boolean;
}

const searches = [
  "",
  "q=bench",
  "q=load",
  "q=linux",
  "tag=gpu",
  "sort=name",
  "sort=size&order=desc",
  "view=versions",
  "q=3e8f1a2",
  "os=Linux&sort=updated",
];

async function readCatalog(port: number, cookies: Cookies, turn: number, reads: Read[]): Promise<void> {
  const query = searches[turn % searches.length]!;
  let pathname = query ? `/?${query}` : "/";
  // A person looks at the first page and, half the time, the next one.
  for (let page = 0; page < 2; page += 1) {
    const start = performance.now();
    const answer = await send(port, {
      path: pathname,
      headers: { cookie: cookies.header(), accept: "text/html" },
    }).catch(() => null);
    const end = performance.now();
    const status = answer?.status ?? 0;
    reads.push({
      start,
      end,
      status,
      databaseUnavailable: status === 503 && /database (is )?unavailable/i.test(answer?.text ?? ""),
    });
    const next =
      answer && status === 200 && turn % 2 === 0
        ? /href="([^"]*[?&]cursor=[A-Za-z0-9_-]+[^"]*)"/.exec(answer.text)?.[1]
        : undefined;
    if (!next) return;
    pathname = next.replaceAll("&amp;", "&");
  }
}

function runReaders(
  count: number,
  port: number,
  cookies: Cookies,
  until: () => boolean,
): { reads: Read[]; done: Promise<void> } {
  const reads: Read[] = [];
  const done = Promise.all(
    Array.from({ length: count }, async (_, reader) => {
      for (let turn = reader; !until(); turn += count) {
        const before = reads.length;
        await readCatalog(port, cookies, turn, reads);
        // With the server down, don't spin: a person would wait a moment too.
        if (reads.slice(before).some((read) => read.status === 0 || read.status >= 500)) await sleep(250);
      }
    }),
  ).then(() => {});
  return { reads, done };
}

// --- uploads ------------------------------------------------------------------------------------

interface Upload {
  index: number;
  file: string;
  sha256: string;
  location?: string;
  resumes: number;
  /** Bytes this client has handed to the socket, in the current PATCH. */
  sent: number;
  done: boolean;
  lost?: string;
}

/** PATCH the file from `offset`, never sending ahead of the pace the run allows. */
function patch(port: number, cookies: Cookies, upload: Upload, offset: number, allowed: () => number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: upload.location,
        method: "PATCH",
        headers: {
          cookie: cookies.header(),
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
          "Content-Length": String(UPLOAD_BYTES - offset),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    void (async () => {
      let sent = offset;
      for await (const chunk of createReadStream(upload.file, {
        start: offset,
        highWaterMark: MiB,
      }) as AsyncIterable<Buffer>) {
        while (sent + chunk.length > allowed()) await sleep(50);
        if (req.destroyed) return;
        sent += chunk.length;
        upload.sent = sent;
        if (!req.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off("drain", done).off("close", done);
              resolve();
            };
            req.on("drain", done).on("close", done);
          });
        }
      }
      req.end();
    })().catch((error: Error) => req.destroy(error));
  });
}

async function runUpload(
  port: () => number,
  cookies: Cookies,
  upload: Upload,
  imageId: string,
  allowed: () => number,
): Promise<void> {
  while (!upload.location) {
    const created = await send(port(), {
      path: "/api/uploads",
      method: "POST",
      headers: {
        cookie: cookies.header(),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": String(UPLOAD_BYTES),
        "Upload-Metadata": `imageId ${Buffer.from(imageId).toString("base64")},version ${Buffer.from(`load-${upload.index}`).toString("base64")},format ${Buffer.from("raw").toString("base64")}`,
      },
    }).catch(() => null);
    if (created?.status === 201)
      upload.location = new URL(String(created.headers.location), "http://localhost").pathname;
    else if (created && created.status < 500) {
      upload.lost = `create answered ${created.status}: ${created.text}`;
      return;
    } else await sleep(500);
  }
  let offset = 0;
  for (let attempt = 0; ; attempt += 1) {
    if (attempt > 0) {
      // Resuming: ask the server where it stands, as a tus client does after a broken connection.
      const head = await send(port(), {
        path: upload.location,
        method: "HEAD",
        headers: { cookie: cookies.header(), "Tus-Resumable": "1.0.0" },
      }).catch(() => null);
      if (!head || head.status >= 500) {
        await sleep(500);
        continue;
      }
      if (head.status !== 200) {
        upload.lost = `HEAD answered ${head.status} after ${upload.resumes} resumes`;
        return;
      }
      offset = Number(head.headers["upload-offset"]);
      upload.resumes += 1;
    }
    const answer = await patch(port(), cookies, upload, offset, allowed).catch(() => null);
    if (answer?.status !== 204)
      say(
        `upload ${upload.index}: PATCH from ${offset} ${answer ? `answered ${answer.status} ${answer.text.slice(0, 120)}` : "broke off"}`,
      );
    if (answer?.status === 204 && answer.headers["hangar-sha256"]) {
      upload.done = true;
      say(`upload ${upload.index} ready after ${upload.resumes} resumes`);
      return;
    }
    if (answer && answer.status < 500 && answer.status !== 409 && answer.status !== 204) {
      upload.lost = `PATCH answered ${answer.status}: ${answer.text}`;
      return;
    }
    await sleep(500);
  }
}

// --- consistency after the run ---------------------------------------------------------------------

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

async function orphans(dataDir: string): Promise<{
  blobsWithoutVersion: string[];
  readyWithoutBlob: string[];
  blobRowsWithoutFile: string[];
  tempFiles: string[];
  halfWritten: string[];
}> {
  const blobRoot = path.join(dataDir, "blobs");
  const onDisk = new Set(
    (await filesUnder(blobRoot))
      .filter((file) => !file.includes(`${path.sep}.incoming${path.sep}`))
      .map((file) => path.basename(file)),
  );
  const versions = await db()
    .select({ id: imageVersions.id, sha256: imageVersions.sha256, status: imageVersions.dataStatus })
    .from(imageVersions);
  const referenced = new Set(versions.map((version) => version.sha256).filter(Boolean));
  const rows = await db().select({ sha256: blobs.sha256 }).from(blobs);
  return {
    blobsWithoutVersion: [...onDisk].filter((sha) => !referenced.has(sha)),
    readyWithoutBlob: versions
      .filter((version) => version.status === "ready" && (!version.sha256 || !onDisk.has(version.sha256)))
      .map((version) => version.id),
    blobRowsWithoutFile: rows.filter((row) => !onDisk.has(row.sha256)).map((row) => row.sha256),
    tempFiles: [
      ...(await filesUnder(path.join(dataDir, "uploads"))),
      ...(await filesUnder(path.join(dataDir, "tmp"))),
      ...(await filesUnder(path.join(blobRoot, ".incoming"))),
    ],
    halfWritten: versions
      .filter((version) => version.status !== "ready" && version.status !== "failed")
      .map((version) => `${version.id} (${version.status})`),
  };
}

// --- the run ------------------------------------------------------------------------------------------

export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "hangar-bench-load-"));
  await chmod(work, 0o755); // the embedded PostgreSQL runs as another user and must reach its folder
  const dataDir = path.join(work, "data");
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const pgPort = await freePort();
  const password = `bench-${Math.random().toString(36).slice(2)}-password`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: "",
    HANGAR_DATA_DIR: dataDir,
    HANGAR_PG_PORT: String(pgPort),
    PORT: String(port),
    HANGAR_SEED_DEMO: "false",
    HANGAR_ADMIN_EMAIL: "bench@hangar.local",
    HANGAR_ADMIN_PASSWORD: password,
    HANGAR_WORKER_CONCURRENCY: "1",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  let hangar: Hangar | undefined;
  try {
    say(
      `load: ${UPLOADS} uploads × ${UPLOAD_BYTES / MiB} MiB, ${READERS} readers, ${LOAD_SECONDS} s under load, PostgreSQL down ${OUTAGE_SECONDS} s`,
    );
    say("Writing the random upload files...");
    const uploads: Upload[] = [];
    for (let index = 0; index < UPLOADS; index += 1) {
      const file = path.join(work, `upload-${index}.raw`);
      await exec("sh", ["-c", `head -c ${UPLOAD_BYTES} /dev/urandom > '${file}'`]);
      const sha256 = (await exec("openssl", ["dgst", "-sha256", "-r", file])).stdout.split(" ")[0]!;
      uploads.push({ index, file, sha256, resumes: 0, sent: 0, done: false });
    }

    say("Starting Hangar...");
    hangar = await startHangar(env, port);
    // The bench reads and checks the same database directly.
    const databaseUrl = `postgresql://hangar:${encodeURIComponent((await readFile(path.join(dataDir, "pg-password"), "utf8")).trim())}@127.0.0.1:${pgPort}/hangar`;
    process.env.DATABASE_URL = databaseUrl;
    process.env.HANGAR_DATA_DIR = dataDir;
    const [admin] = await db().select({ id: users.id }).from(users).where(eq(users.email, "bench@hangar.local"));
    const [project] = await db()
      .insert(projects)
      .values({ slug: "load", name: "Load", quotaBytes: 1024 ** 4 })
      .returning({ id: projects.id });
    await db().insert(projectMembers).values({ projectId: project!.id, userId: admin!.id, role: "owner" });
    // A catalog worth paging: images with a ready version each, all sharing one small real blob.
    const blobFile = path.join(dataDir, "catalog-blob");
    await writeFile(blobFile, Buffer.alloc(MiB, 7));
    const blobSha256 = createHash("sha256")
      .update(await readFile(blobFile))
      .digest("hex");
    const blobSha512 = createHash("sha512")
      .update(await readFile(blobFile))
      .digest("hex");
    await getBlobStore().putFromTempFile({ tempPath: blobFile, sha256: blobSha256, size: MiB });
    for (let index = 0; index < CATALOG_IMAGES; index += 1) {
      await db().transaction(async (tx) => {
        const image = await createImage({
          tx,
          actorId: admin!.id,
          values: {
            slug: `load-${index}`,
            name: `Load image ${index} ${index % 7 === 0 ? "ci-runner-3e8f1a2" : "linux"}`,
            os: "Linux",
            projectId: project!.id,
            tags: index % 5 === 0 ? ["gpu"] : ["bench"],
          },
        });
        await createReadyVersion({
          tx,
          actorId: admin!.id,
          values: {
            imageId: image.id,
            version: "1",
            format: "raw",
            virtualSize: MiB,
            fileSize: MiB,
            sha256: blobSha256,
            sha512: blobSha512,
            releaseStatus: "approved",
            source: "upload",
          },
        });
      });
    }
    const target = await db().transaction((tx) =>
      createImage({
        tx,
        actorId: admin!.id,
        values: { slug: "load-uploads", name: "Load uploads", os: "Linux", projectId: project!.id },
      }),
    );
    // The bench's own pool would only see the outage as terminated connections; close it until the end.
    await closeDb();

    const cookies = new Cookies();
    const csrf = await send(port, { path: "/api/auth/csrf" });
    cookies.take(csrf.headers);
    const signedIn = await send(
      port,
      {
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
    if (!cookies.header().includes("session-token")) throw new Error(`signing in failed: ${signedIn.status}`);

    // Warm-up: the first render of each route loads its modules.
    await runReaders(
      Math.min(READERS, 4),
      port,
      cookies,
      (() => {
        const until = performance.now() + 3000;
        return () => performance.now() > until;
      })(),
    ).done;

    say(`Idle: one reader for ${IDLE_SECONDS} s...`);
    const idleUntil = performance.now() + IDLE_SECONDS * 1000;
    const idle = runReaders(1, port, cookies, () => performance.now() > idleUntil);
    await idle.done;
    say(`Readers only: ${READERS} readers for ${IDLE_SECONDS} s...`);
    const readersOnlyUntil = performance.now() + IDLE_SECONDS * 1000;
    const readersOnly = runReaders(READERS, port, cookies, () => performance.now() > readersOnlyUntil);
    await readersOnly.done;

    say(
      `Load: ${UPLOADS} uploads and ${READERS} readers for ${LOAD_SECONDS} s, with a server kill and a database outage...`,
    );
    const loadStart = performance.now();
    const loadEnd = loadStart + LOAD_SECONDS * 1000;
    const allowed = () =>
      UPLOAD_BYTES * Math.min(1, (performance.now() - loadStart) / (PACE_FRACTION * LOAD_SECONDS * 1000));
    const faults: { kind: "kill" | "outage"; start: number; end: number }[] = [];
    const rss: { baseline: number; peak: number }[] = [{ baseline: rssOf(hangar.child.pid), peak: 0 }];
    const sampler = setInterval(() => {
      const current = rss[rss.length - 1]!;
      current.peak = Math.max(current.peak, rssOf(hangar?.child.pid));
    }, 200);
    // Readers go on through both faults and a few seconds past the outage, whatever the run's length.
    let readUntil = Number.POSITIVE_INFINITY;
    const load = runReaders(READERS, port, cookies, () => performance.now() > readUntil);
    const uploading = Promise.all(uploads.map((upload) => runUpload(() => port, cookies, upload, target.id, allowed)));

    // Fault 1: SIGKILL at a quarter of the run, once every upload is sending bytes (creating ten
    // sessions can take a while on a busy machine), then start it again at once.
    await sleep(LOAD_SECONDS * 250);
    while (
      uploads.some((upload) => upload.sent === 0 && !upload.lost) &&
      performance.now() < loadStart + LOAD_SECONDS * 1000
    )
      await sleep(100);
    const inFlightAtKill = uploads
      .filter((upload) => upload.sent > 0 && !upload.done && !upload.lost)
      .map((upload) => upload.index);
    const killAt = performance.now();
    say(`SIGKILL to the server (${inFlightAtKill.length} uploads in flight)`);
    hangar.child.kill("SIGKILL");
    await new Promise((resolve) =>
      hangar!.child.exitCode !== null || hangar!.child.signalCode !== null
        ? resolve(null)
        : hangar!.child.once("exit", resolve),
    );
    hangar = await startHangar(env, port);
    const restartSeconds = (hangar.readyAt - killAt) / 1000;
    faults.push({ kind: "kill", start: killAt, end: hangar.readyAt + 1000 });
    rss.push({ baseline: rssOf(hangar.child.pid), peak: 0 });
    say(`restarted in ${restartSeconds.toFixed(1)} s`);

    // Fault 2: PostgreSQL down at 60% of the run, once the uploads cut by the kill are sending again.
    await sleep(Math.max(3000, loadStart + LOAD_SECONDS * 600 - performance.now()));
    const resumedBy = performance.now() + 60_000;
    while (
      uploads.some(
        (upload) => inFlightAtKill.includes(upload.index) && upload.resumes === 0 && !upload.done && !upload.lost,
      ) &&
      performance.now() < resumedBy
    )
      await sleep(100);
    const inFlightAtOutage = uploads.filter((upload) => !upload.done && !upload.lost).map((upload) => upload.index);
    const postmaster = Number((await readFile(path.join(dataDir, "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
    const outageStart = performance.now();
    say(
      `stopping PostgreSQL (pid ${postmaster}, ${inFlightAtOutage.length} uploads in flight) and holding its port for ${OUTAGE_SECONDS} s`,
    );
    process.kill(postmaster, "SIGINT");
    while (processAlive(postmaster)) await sleep(10);
    // Anything that connects meanwhile is cut at once, as a refused connection would be.
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => blocker.once("error", reject).listen(pgPort, "127.0.0.1", resolve));
    await sleep(OUTAGE_SECONDS * 1000 - (performance.now() - outageStart));
    await new Promise((resolve) => blocker.close(resolve));
    while ((await send(port, { path: "/api/health" }).catch(() => null))?.status !== 200) await sleep(100);
    const outageEnd = performance.now();
    faults.push({ kind: "outage", start: outageStart, end: outageEnd + 1000 });
    readUntil = Math.max(loadEnd, outageEnd + 5000);
    say(`database back after ${((outageEnd - outageStart) / 1000).toFixed(1)} s`);

    await load.done;
    const finishBy = performance.now() + FINISH_TIMEOUT_MS;
    await Promise.race([
      uploading,
      (async () => {
        while (performance.now() < finishBy) await sleep(1000);
      })(),
    ]);
    clearInterval(sampler);
    for (const upload of uploads) if (!upload.done && !upload.lost) upload.lost = "did not finish in time";

    // Checks: every upload ready with its own sha256; nothing orphaned or half-written.
    const versions = await db()
      .select({
        version: imageVersions.version,
        status: imageVersions.dataStatus,
        sha256: imageVersions.sha256,
        reason: imageVersions.failureReason,
      })
      .from(imageVersions)
      .where(
        and(
          eq(imageVersions.imageId, target.id),
          inArray(
            imageVersions.version,
            uploads.map((upload) => `load-${upload.index}`),
          ),
        ),
      );
    const intact = (upload: Upload) => {
      const version = versions.find((row) => row.version === `load-${upload.index}`);
      return upload.done && version?.status === "ready" && version.sha256 === upload.sha256;
    };
    for (const upload of uploads.filter((item) => !intact(item))) {
      const version = versions.find((row) => row.version === `load-${upload.index}`);
      say(
        `upload ${upload.index} lost: ${upload.lost ?? ""} version ${version?.status ?? "missing"} ${version?.reason ?? ""}`,
      );
    }
    const left = await orphans(dataDir);
    for (const [kind, items] of Object.entries(left)) if (items.length) say(`${kind}: ${items.join(", ")}`);
    const orphanCount =
      left.blobsWithoutVersion.length +
      left.readyWithoutBlob.length +
      left.blobRowsWithoutFile.length +
      left.tempFiles.length;

    const inFault = (read: Read, kind: "kill" | "outage") =>
      faults.some((fault) => fault.kind === kind && read.end >= fault.start && read.start <= fault.end);
    const steady = load.reads.filter((read) => !inFault(read, "kill") && !inFault(read, "outage"));
    const outageReads = load.reads.filter((read) => inFault(read, "outage"));
    const readErrors = steady.filter((read) => read.status < 200 || read.status >= 300).length;
    const uploadErrors = uploads.filter((upload) => !intact(upload)).length;
    const loadErrors = readErrors + uploadErrors;
    const outage503s = outageReads.filter((read) => read.databaseUnavailable).length;
    const outageOtherReads = outageReads.filter(
      (read) => !read.databaseUnavailable && (read.status < 200 || read.status >= 300),
    );
    const outageOther = outageOtherReads.length;
    const byStatus = (reads: Read[]) =>
      JSON.stringify(
        Object.fromEntries(
          [...new Set(reads.map((read) => read.status))].map((status) => [
            status || "no answer",
            reads.filter((read) => read.status === status).length,
          ]),
        ),
      );
    const killLost = uploads.filter((upload) => inFlightAtKill.includes(upload.index) && !intact(upload)).length;
    const outageLost =
      uploads.filter((upload) => inFlightAtOutage.includes(upload.index) && !intact(upload)).length +
      left.halfWritten.length;
    const latency = (reads: Read[]) =>
      reads.filter((read) => read.status >= 200 && read.status < 300).map((read) => read.end - read.start);
    const p95Idle = percentile(latency(idle.reads), 95);
    const p95ReadersOnly = percentile(latency(readersOnly.reads), 95);
    const p95Load = percentile(latency(steady), 95);
    const steadySeconds =
      (readUntil - loadStart - faults.reduce((sum, fault) => sum + fault.end - fault.start, 0)) / 1000;
    const rssGrowth = Math.max(...rss.map((sample) => sample.peak - sample.baseline)) / MiB;
    say(
      `  reads: idle ${idle.reads.length}, readers only ${readersOnly.reads.length}, under load ${load.reads.length} (${steady.length} outside the faults, ${readErrors} failed; ${outageReads.length} during the outage: ${outage503s} clear 503s, ${outageOther} other failures ${byStatus(outageOtherReads)})`,
    );
    say(
      `uploads: ${uploads.filter(intact).length}/${UPLOADS} ready with the right sha256; resumes ${uploads.map((upload) => upload.resumes).join(" ")}`,
    );

    const count = (metric: string, value: number, target: string, pass: boolean, anchor = 0): BenchRow => ({
      metric,
      value,
      unit: "count",
      anchor,
      ratio: anchor ? value / anchor : value,
      target,
      pass,
    });
    return [
      count("load_errors", loadErrors, "== 0", loadErrors === 0, steady.length + UPLOADS),
      {
        metric: "catalog_p95_under_load_vs_idle",
        value: p95Load,
        unit: "ms",
        anchor: p95Idle,
        ratio: p95Load / p95Idle,
        target: "<= 5",
        pass: p95Load / p95Idle <= 5,
      },
      {
        metric: "catalog_p95_under_load_vs_readers_only",
        value: p95Load,
        unit: "ms",
        anchor: p95ReadersOnly,
        ratio: p95Load / p95ReadersOnly,
        target: "<= 2",
        pass: p95Load / p95ReadersOnly <= 2,
      },
      {
        metric: "catalog_reads_per_second_under_load",
        value: steady.length / steadySeconds,
        unit: "reads/s",
        anchor: readersOnly.reads.length / IDLE_SECONDS,
        ratio: steady.length / steadySeconds / (readersOnly.reads.length / IDLE_SECONDS),
        target: "report",
        pass: true,
      },
      {
        metric: "server_rss_growth",
        value: rssGrowth,
        unit: "MiB",
        anchor: 512,
        ratio: rssGrowth / 512,
        target: "<= 512 MiB",
        pass: rssGrowth <= 512,
      },
      {
        metric: "kill_restart_seconds",
        value: restartSeconds,
        unit: "s",
        anchor: 60,
        ratio: restartSeconds / 60,
        target: "<= 60 s",
        pass: restartSeconds <= 60,
      },
      count("kill_restart_lost", killLost, "== 0", killLost === 0, inFlightAtKill.length),
      count("orphans_after_restart", orphanCount, "== 0", orphanCount === 0),
      {
        metric: "db_outage_seconds",
        value: (outageEnd - outageStart) / 1000,
        unit: "s",
        anchor: OUTAGE_SECONDS,
        ratio: (outageEnd - outageStart) / 1000 / OUTAGE_SECONDS,
        target: "report",
        pass: true,
      },
      count("db_outage_503s", outage503s, "> 0", outage503s > 0, outageReads.length),
      count("db_outage_non_503_errors", outageOther, "== 0", outageOther === 0, outageReads.length),
      count("db_outage_lost", outageLost, "== 0", outageLost === 0, inFlightAtOutage.length),
    ];
  } finally {
    if (hangar?.child.exitCode === null) {
      hangar.child.kill("SIGTERM");
      await new Promise((resolve) => hangar!.child.once("exit", resolve));
    }
    await closeDb();
    // A server killed with SIGKILL leaves its PostgreSQL to the next start, which stopped it; make sure.
    const pidFile = path.join(dataDir, "pg", "postmaster.pid");
    if (existsSync(pidFile)) {
      const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
      if (pid > 0 && processAlive(pid)) process.kill(pid, "SIGINT");
      for (let waited = 0; pid > 0 && waited < 10_000 && processAlive(pid); waited += 100) await sleep(100);
    }
    await rm(work, { recursive: true, force: true });
  }
}
