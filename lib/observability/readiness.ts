// Whether this process can do its work: the database answers, every migration is applied, the
// blob store takes a write, and the job queue runs. The answer is kept for a moment so that many
// probes at once (a scrape storm, several load balancers) cost one round of checks.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { databaseUnavailableReason, isDatabaseAvailable } from "@/db/health";
import { listPendingMigrations, pingDatabase } from "@/db/queries/health";
import { env } from "@/lib/env";
import { isWorkerRunning, queue } from "@/lib/jobs/queue";
import { checkBlobStoreReachable } from "@/lib/storage";

export interface ReadinessCheck {
  name: "database" | "migrations" | "blob_store" | "queue";
  ok: boolean;
  /** Why it failed, or what was found when it passed. */
  reason: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

const CACHE_MS = 1500;
const CHECK_TIMEOUT_MS = 3000;
const globalForReadiness = globalThis as unknown as { hangarReadiness?: { at: number; result: Promise<Readiness> } };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function checkDatabase(): Promise<ReadinessCheck> {
  const down = (reason: string): ReadinessCheck => ({ name: "database", ok: false, reason });
  if (!isDatabaseAvailable()) return down(databaseUnavailableReason() || "PostgreSQL does not answer.");
  if (!(await pingDatabase())) return down("PostgreSQL does not answer a query.");
  return { name: "database", ok: true, reason: "PostgreSQL answers." };
}

async function checkMigrations(databaseOk: boolean): Promise<ReadinessCheck> {
  if (!databaseOk) return { name: "migrations", ok: false, reason: "Not checked: the database does not answer." };
  try {
    const pending = await listPendingMigrations();
    return pending.length === 0
      ? { name: "migrations", ok: true, reason: "Every migration is applied." }
      : { name: "migrations", ok: false, reason: `${pending.length} migration(s) not applied: ${pending.join(", ")}.` };
  } catch (error) {
    return { name: "migrations", ok: false, reason: `Could not read the applied migrations: ${messageOf(error)}` };
  }
}

async function checkBlobStore(): Promise<ReadinessCheck> {
  if (env().HANGAR_BLOB_STORE === "s3") {
    try {
      return { name: "blob_store", ok: true, reason: `The ${await checkBlobStoreReachable()}.` };
    } catch (error) {
      return { name: "blob_store", ok: false, reason: `The object store can't be used: ${messageOf(error)}` };
    }
  }
  const directory = path.join(env().dataDir, "blobs");
  const probe = path.join(directory, `.ready-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(directory, { recursive: true });
    await writeFile(probe, "ok", { mode: 0o600 });
    await rm(probe);
    return { name: "blob_store", ok: true, reason: `${directory} is writable.` };
  } catch (error) {
    await rm(probe, { force: true }).catch(() => {});
    return { name: "blob_store", ok: false, reason: `Can't write to ${directory}: ${messageOf(error)}` };
  }
}

async function checkQueue(databaseOk: boolean): Promise<ReadinessCheck> {
  if (isWorkerRunning()) return { name: "queue", ok: true, reason: "A job worker runs in this process." };
  if (!databaseOk) return { name: "queue", ok: false, reason: "Not checked: the database does not answer." };
  // A web process without a worker only sends jobs: its sending client must start (it installs
  // the queue's tables if no worker has yet), as the first enqueue would.
  try {
    await queue();
    return { name: "queue", ok: true, reason: "No worker in this process; the sending client is started." };
  } catch (error) {
    return { name: "queue", ok: false, reason: `The job queue can't be reached: ${messageOf(error)}` };
  }
}

/** A check that hangs (a database behind a dead network path) fails after a while, so probes get an answer. */
function limited(name: ReadinessCheck["name"], check: Promise<ReadinessCheck>): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ReadinessCheck>((resolve) => {
    timer = setTimeout(
      () => resolve({ name, ok: false, reason: `No answer within ${CHECK_TIMEOUT_MS / 1000} s.` }),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

async function runChecks(): Promise<Readiness> {
  const [database, blobStore] = await Promise.all([
    limited("database", checkDatabase()),
    limited("blob_store", checkBlobStore()),
  ]);
  const [migrations, queue] = await Promise.all([
    limited("migrations", checkMigrations(database.ok)),
    limited("queue", checkQueue(database.ok)),
  ]);
  const checks = [database, migrations, blobStore, queue];
  return { ready: checks.every((check) => check.ok), checks };
}

/** The readiness checks, run at most once per ~1.5 s however often they are asked for. */
export function readiness(): Promise<Readiness> {
  const cached = globalForReadiness.hangarReadiness;
  if (cached && Date.now() - cached.at < CACHE_MS) return cached.result;
  const result = runChecks();
  globalForReadiness.hangarReadiness = { at: Date.now(), result };
  return result;
}
