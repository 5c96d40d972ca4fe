// `npm start`: one process that owns everything Hangar needs. It starts the embedded PostgreSQL
// unless DATABASE_URL points elsewhere, applies migrations, seeds first-run data, then serves
// Next.js as a child process. Stopping it (Ctrl-C, SIGTERM) stops everything it started.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { closeDb } from "../db/client";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { ensureAdmin, seedDemoCatalog } from "../db/seed";
import { readEnv } from "../lib/env";
import { reconcileStorage } from "../lib/imports/reconcile";
import { jobHandlers } from "../lib/jobs/handlers";
import { startWorker, type Worker } from "../lib/jobs/queue";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = process.argv.includes("--dev");
const log = (line: string) => console.log(line ? `[hangar] ${line}` : "");

async function authSecret(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, "auth-secret");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`))));
  });
}

async function main() {
  let config;
  try {
    config = readEnv();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  await mkdir(config.dataDir, { recursive: true });
  let embedded: EmbeddedDatabase | undefined;
  let next: ChildProcess | undefined;
  let worker: Worker | undefined;
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (next && next.exitCode === null) {
      next.kill("SIGTERM");
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          next?.kill("SIGKILL");
          resolve(undefined);
        }, 10_000);
        next?.once("exit", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    await worker?.stop().catch((error) => console.error(error));
    await closeDb().catch(() => {});
    if (embedded) {
      log("Stopping the embedded PostgreSQL...");
      await embedded.stop().catch((error) => console.error(error));
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      log(`Starting the embedded PostgreSQL (data in ${path.join(config.dataDir, "pg")})...`);
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
      databaseUrl = embedded.url;
    } else {
      log("Using the PostgreSQL server from DATABASE_URL.");
    }
    process.env.DATABASE_URL = databaseUrl;
    process.env.HANGAR_DATA_DIR = config.dataDir;
    await applyMigrations(databaseUrl);
    log("Database schema is up to date.");
    const adminId = await ensureAdmin({ email: config.HANGAR_ADMIN_EMAIL, password: config.HANGAR_ADMIN_PASSWORD, log });
    if (config.HANGAR_SEED_DEMO) await seedDemoCatalog({ adminId, log });
    await reconcileStorage({ log });
    if (config.HANGAR_WORKER_CONCURRENCY > 0) {
      worker = await startWorker({ handlers: jobHandlers, concurrency: config.HANGAR_WORKER_CONCURRENCY, log });
    }

    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HANGAR_DATA_DIR: config.dataDir,
      AUTH_SECRET: await authSecret(config.dataDir, config.AUTH_SECRET),
      AUTH_TRUST_HOST: "true",
      PORT: String(config.PORT),
    };
    const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
    if (!dev && !existsSync(path.join(root, ".next", "BUILD_ID"))) {
      log("No production build found; running `next build` once (about a minute)...");
      await run(process.execPath, [nextBin, "build"], { ...childEnv, NODE_ENV: "production" });
    }
    next = spawn(process.execPath, [nextBin, dev ? "dev" : "start", "-p", String(config.PORT)], {
      cwd: root,
      env: childEnv,
      stdio: "inherit",
    });
    next.on("exit", (code) => {
      if (!stopping) {
        log(`Next.js exited (${code ?? "signal"}); stopping.`);
        void shutdown(code ?? 1);
      }
    });
    log(`Hangar is starting on http://localhost:${config.PORT}`);
  } catch (error) {
    console.error(`[hangar] Start-up failed: ${(error as Error).message}`);
    await shutdown(1);
  }
}

void main();
