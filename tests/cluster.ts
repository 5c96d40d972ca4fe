// Hangar as several machines would run it, on this one: web processes (`npm start`'s script,
// web-only) and workers (`npm run worker`'s script), each a separate OS process in a process group
// of its own with its own scratch folder (HANGAR_DATA_DIR), sharing nothing but one PostgreSQL and
// one bucket in a real Swift (tests/swift.ts). Tests (lib/processes/cluster.test.ts) and benchmarks
// (bench/scale.ts) start one; each process's output goes to a log file, whose tail a failure shows.
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import {
  createTestBucket,
  SHARED_SWIFT_DIR_VARIABLE,
  sharedSwift,
  startSwift,
  stopSwift,
  swiftClient,
  type SwiftServer,
} from "./swift";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

export type ClusterProcessKind = "web" | "worker";

export interface ClusterProcess {
  kind: ClusterProcessKind;
  /** web-1, worker-2, ...: names the log file and the process in failure messages. */
  name: string;
  /** The node process, which leads its own process group (its tools run in groups of their own). */
  pid: number;
  dataDir: string;
  logFile: string;
  /** A web process's origin, such as http://127.0.0.1:41234. */
  origin?: string;
  /** Resolves with the exit code (or 1 when killed by a signal) once the process has exited. */
  exited: Promise<number>;
  /** Sends a signal to the whole process group (SIGSTOP/SIGCONT pause and resume it). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to the group, as a machine losing power would; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface Cluster {
  databaseUrl: string;
  swift: SwiftServer;
  bucket: string;
  /** The key prefix every blob has in the bucket (HANGAR_S3_PREFIX). */
  prefix: string;
  /** The environment every process of the cluster gets (before its own data folder and port). */
  env: Record<string, string>;
  processes: ClusterProcess[];
  startWorker(options?: { env?: Record<string, string> }): Promise<ClusterProcess>;
  /** Needs a production build (`npx next build`): a web process never builds one itself here. */
  startWeb(options?: { env?: Record<string, string> }): Promise<ClusterProcess>;
  /** The sha256 of every blob in the bucket (keys under the prefix), and anything else found there. */
  listBucket(): Promise<{ sha256s: string[]; others: string[] }>;
  /** The last lines of every process's log, for a failure message. */
  logTails(lines?: number): Promise<string>;
  /** SIGTERM to every process still running (SIGKILL after 30 s), then what the cluster started itself. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** The PostgreSQL to share; unset, the cluster starts an embedded one of its own. */
  databaseUrl?: string;
  /** Unset: the test run's shared Swift, or outside a test run one of the cluster's own. */
  swift?: SwiftServer;
  webs?: number;
  workers?: number;
  /** Settings for every process (HANGAR_BUILD_STALE_SECONDS, HANGAR_ADMIN_PASSWORD, ...). */
  env?: Record<string, string>;
  /** Keep the scratch folders after stop (to read logs after a failed run). */
  keep?: boolean;
}

const alive = (group: number) => {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs: number, died: () => string | null) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const death = died();
    if (death) throw new Error(death);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} after ${timeoutMs / 1000} s`);
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(-lines).join("\n");
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cluster-"));
  await chmod(dir, 0o755); // an embedded PostgreSQL runs as another user and must reach its folder
  let embedded: EmbeddedDatabase | undefined;
  let ownSwift: SwiftServer | undefined;
  const processes: ClusterProcess[] = [];
  let client: S3Client | undefined;
  const counters: Record<ClusterProcessKind, number> = { web: 0, worker: 0 };

  const stop = async () => {
    for (const child of processes) if (alive(child.pid)) child.signal("SIGCONT");
    for (const child of processes) if (alive(child.pid)) child.signal("SIGTERM");
    const deadline = Date.now() + 30_000;
    while (processes.some((child) => alive(child.pid)) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    for (const child of processes) if (alive(child.pid)) child.signal("SIGKILL");
    client?.destroy();
    await embedded?.stop();
    if (ownSwift) await stopSwift(ownSwift);
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  };

  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "postgres") });
      databaseUrl = embedded.url;
      await applyMigrations(databaseUrl);
    }
    const swift =
      options.swift ?? (process.env[SHARED_SWIFT_DIR_VARIABLE] ? await sharedSwift() : (ownSwift = await startSwift()));
    const bucket = await createTestBucket(swift, "cluster");
    const prefix = "hangar/blobs/";
    client = swiftClient(swift);
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_ENDPOINT: swift.endpoint,
      HANGAR_S3_REGION: swift.region,
      HANGAR_S3_BUCKET: bucket,
      HANGAR_S3_ACCESS_KEY_ID: swift.accessKeyId,
      HANGAR_S3_SECRET_ACCESS_KEY: swift.secretAccessKey,
      HANGAR_S3_FORCE_PATH_STYLE: "true",
      HANGAR_S3_PREFIX: prefix,
      // One secret for every web process: a session signed by one is valid on the others.
      AUTH_SECRET: `cluster-${path.basename(dir)}-secret-of-at-least-32-characters`,
      HANGAR_METRICS_PORT: "",
      HANGAR_SEED_DEMO: "false",
      LIBGUESTFS_BACKEND: "direct",
      ...options.env,
    };

    const start = async (
      kind: ClusterProcessKind,
      script: string,
      own: Record<string, string>,
      ready: (child: ClusterProcess) => Promise<boolean>,
    ): Promise<ClusterProcess> => {
      counters[kind] += 1;
      const name = `${kind}-${counters[kind]}`;
      const dataDir = path.join(dir, name);
      await mkdir(dataDir, { recursive: true });
      const logFile = path.join(dir, `${name}.log`);
      const log = openSync(logFile, "a");
      // node itself with tsx as a loader: the tsx command would run the script in a child, which
      // a signal to the command alone leaves running. detached: a process group of its own.
      const spawned = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: root,
        detached: true,
        stdio: ["ignore", log, log],
        env: { ...process.env, ...env, HANGAR_DATA_DIR: dataDir, ...own },
      });
      closeSync(log);
      if (!spawned.pid) throw new Error(`could not start ${name} (${script})`);
      let exitCode: number | null = null;
      const exited = new Promise<number>((resolve) =>
        spawned.once("exit", (code, signal) => resolve((exitCode = code ?? (signal ? 1 : 0)))),
      );
      const pid = spawned.pid;
      const child: ClusterProcess = {
        kind,
        name,
        pid,
        dataDir,
        logFile,
        origin: own.PORT ? `http://127.0.0.1:${own.PORT}` : undefined,
        exited,
        signal(signal) {
          try {
            process.kill(-pid, signal);
          } catch {
            // the group is gone
          }
        },
        async kill() {
          child.signal("SIGKILL");
          await exited;
        },
      };
      processes.push(child);
      await waitUntil(
        () => ready(child),
        `${name} was not ready`,
        180_000,
        () => (exitCode === null ? null : `${name} exited with ${exitCode} before it was ready`),
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}; its log (${logFile}) ends:\n${await tail(logFile, 40)}`);
      });
      return child;
    };

    const cluster: Cluster = {
      databaseUrl,
      swift,
      bucket,
      prefix,
      env,
      processes,
      startWorker: ({ env: own = {} } = {}) =>
        start("worker", "scripts/worker.ts", { HANGAR_WORKER_CONCURRENCY: "1", ...own }, async (child) =>
          /Job worker started/.test(await readFile(child.logFile, "utf8")),
        ),
      async startWeb({ env: own = {} } = {}) {
        if (!existsSync(path.join(root, ".next", "BUILD_ID")))
          throw new Error("A web process needs a production build: run `npx next build` first.");
        const port = String(await freePort());
        return start(
          "web",
          "scripts/start.ts",
          { HANGAR_WORKER_CONCURRENCY: "0", PORT: port, AUTH_URL: `http://127.0.0.1:${port}`, ...own },
          async (child) => (await fetch(`${child.origin}/readyz`)).ok,
        );
      },
      async listBucket() {
        const sha256s: string[] = [];
        const others: string[] = [];
        let token: string | undefined;
        do {
          const page = await client!.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
          for (const { Key } of page.Contents ?? []) {
            const sha256 = Key?.startsWith(prefix) ? Key.slice(prefix.length) : "";
            if (/^[0-9a-f]{64}$/.test(sha256)) sha256s.push(sha256);
            else others.push(Key ?? "");
          }
          token = page.NextContinuationToken;
        } while (token);
        return { sha256s, others };
      },
      async logTails(lines = 30) {
        const parts = await Promise.all(
          processes.map(
            async (child) => `--- ${child.name} (pid ${child.pid}) ---\n${await tail(child.logFile, lines)}`,
          ),
        );
        return parts.join("\n");
      },
      stop,
    };
    for (let index = 0; index < (options.workers ?? 0); index += 1) await cluster.startWorker();
    for (let index = 0; index < (options.webs ?? 0); index += 1) await cluster.startWeb();
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}
