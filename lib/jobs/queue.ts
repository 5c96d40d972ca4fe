// Jobs (URL imports, conversions, later builds) run on pg-boss in the same PostgreSQL as
// everything else: no extra service to run, and enqueueing can share a transaction's database.
// The web process only sends; workers (in-process by default, or `npm run worker`) execute.
import PgBoss from "pg-boss";
import type { DiskFormat } from "@/db/schema";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";
import { env } from "@/lib/env";
import { accelerationLabels, formatDuration } from "@/lib/format";
import { logger } from "@/lib/observability/log";
import { observeJob, type JobResult } from "@/lib/observability/metrics";
import { acceleration } from "./acceleration";
import { jobStopped, jobTimeLimit, startJobRun, type JobRun } from "./job-run";

export const jobNames = [
  "image.import-url",
  "image.convert",
  "image.build",
  "image.clone",
  "release.apply-scheduled",
  "retention.run",
  "content.inspect",
  "content.diff",
  "image.boot-test",
  "demo.debian-image",
  "webhook.deliver",
  "blob.checksums",
  "feed.artifacts",
] as const;
export type JobName = (typeof jobNames)[number];

export interface JobPayloads {
  "image.import-url": {
    versionId: string;
    url: string;
    claimedFormat: DiskFormat | null;
    expectedSha256: string | null;
    actorId: string;
  };
  "image.convert": { conversionId: string };
  "image.build": { buildId: string };
  "image.clone": { cloneId: string };
  "release.apply-scheduled": Record<string, never>;
  /** Every enabled retention rule, daily (HANGAR_RETENTION_CRON). */
  "retention.run": Record<string, never>;
  /** Reads what is inside a blob (one content_scans row per sha256). */
  "content.inspect": { sha256: string };
  "content.diff": { diffId: string };
  "image.boot-test": { bootTestId: string };
  /** The demo catalog's real Debian: debootstrap, ingest, then a recipe build on it. */
  "demo.debian-image": { versionId: string };
  /** One attempt at one webhook delivery; retried with backoff (lib/webhooks/events.ts). */
  "webhook.deliver": { deliveryId: string };
  /** Whatever of sha512 and md5 a blob lacks, from one read of its file (lib/storage/checksums.ts). */
  "blob.checksums": { sha256: string };
  /** A version's LXD/Incus metadata tarballs and combined fingerprint (lib/feeds/artifacts.ts). */
  "feed.artifacts": { versionId: string };
}

/** `signal` aborts with a JobStopped when the job's time limit passes or the worker stops. */
export type JobHandler<Name extends JobName> = (
  data: JobPayloads[Name],
  context: { jobId: string; signal: AbortSignal; timeLimitMs: number | null },
) => Promise<void>;
export type JobHandlers = { [Name in JobName]: JobHandler<Name> };

const globalForQueue = globalThis as unknown as { hangarBoss?: Promise<PgBoss>; hangarWorkersRunning?: number };

/** Whether a worker (its own pg-boss client, started and not stopped) runs in this process. */
export function isWorkerRunning(): boolean {
  return (globalForQueue.hangarWorkersRunning ?? 0) > 0;
}

function connectionString(): string {
  const url = env().DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set; the job queue lives in Hangar's PostgreSQL.");
  return url;
}

/**
 * Kinds keyed by what they work on (the job's singletonKey): at most one waiting and one running
 * per key, so asking again while one waits is a no-op (pg-boss's "stately" policy).
 */
const keyedJobs: readonly JobName[] = ["blob.checksums", "feed.artifacts"];

async function createQueues(boss: PgBoss): Promise<void> {
  for (const name of jobNames) {
    // expireInSeconds bounds how long a job may run before another worker may take it over.
    // A build is never retried by the queue: a build whose worker died ends failed (see
    // lib/builds/sweeper.ts) and the person retries it, so no build can produce two outputs.
    await boss.createQueue(name, {
      name,
      retryLimit: name === "image.build" || name === "demo.debian-image" ? 0 : 2,
      retryDelay: 5,
      expireInSeconds: 4 * 60 * 60,
      ...(keyedJobs.includes(name) ? { policy: "stately" } : {}),
    });
  }
}

/** A sending-only client for the web process. */
export function queue(): Promise<PgBoss> {
  globalForQueue.hangarBoss ??= (async () => {
    // It installs the queue's schema and queues when it is first (a web process may start
    // before any worker has); both are idempotent and guarded by pg-boss's own advisory lock.
    const boss = new PgBoss({ connectionString: connectionString(), max: 3, supervise: false, schedule: false });
    boss.on("error", (error) => logger().error({ err: error }, "job queue error"));
    await boss.start();
    await createQueues(boss);
    return boss;
  })().catch((error: unknown) => {
    // A client that could not start (the database was away) is tried afresh next time.
    globalForQueue.hangarBoss = undefined;
    throw error;
  });
  return globalForQueue.hangarBoss;
}

/** Closes the sending client, if one was opened (scripts and benchmarks that stop their database). */
export async function closeQueue(): Promise<void> {
  const boss = globalForQueue.hangarBoss;
  globalForQueue.hangarBoss = undefined;
  if (boss) await (await boss).stop({ graceful: false, close: true });
}

/** pg-boss hands a job that is still active after its expiry to another worker; a job with a time limit is stopped by its own worker first. */
function expiryOf(name: JobName): PgBoss.SendOptions {
  const limitMs = jobTimeLimit(name);
  return limitMs === null ? {} : { expireInSeconds: Math.ceil(limitMs / 1000) + 300 };
}

export async function enqueue<Name extends JobName>(
  name: Name,
  data: JobPayloads[Name],
  options: PgBoss.SendOptions = {},
): Promise<string> {
  const boss = await queue();
  const id = await boss.send(name, data, { ...expiryOf(name), ...options });
  if (!id) throw new Error(`the job queue did not accept a ${name} job`);
  return id;
}

/** Sends a job of a keyed kind (see keyedJobs) unless one with this key is already waiting: its id, or null then. */
export async function enqueueOnce<Name extends JobName>(
  name: Name,
  data: JobPayloads[Name],
  singletonKey: string,
): Promise<string | null> {
  if (!keyedJobs.includes(name)) throw new Error(`${name} jobs are not keyed; send them with enqueue`);
  const boss = await queue();
  return boss.send(name, data, { ...expiryOf(name), singletonKey });
}

export interface Worker {
  stop: () => Promise<void>;
}

/** Starts a worker that runs `concurrency` jobs of each kind at a time. */
export async function startWorker({
  handlers,
  concurrency = 1,
  log = console.log,
  timeLimits = {},
}: {
  handlers: JobHandlers;
  concurrency?: number;
  log?: (line: string) => void;
  /** Per-kind wall-clock limits in milliseconds instead of the configured ones (tests use tiny ones). */
  timeLimits?: Partial<Record<JobName, number>>;
}): Promise<Worker> {
  // Decided before any job runs, so the first build doesn't wait for the probe (or hang on KVM).
  const accel = await acceleration();
  log(`Guests run with ${accelerationLabels[accel.mode]}: ${accel.reason}.`);
  const boss = new PgBoss({ connectionString: connectionString(), max: 2 + concurrency * jobNames.length });
  boss.on("error", (error) => log(`job queue error: ${(error as Error).message}`));
  await boss.start();
  await createQueues(boss);
  globalForQueue.hangarWorkersRunning = (globalForQueue.hangarWorkersRunning ?? 0) + 1;
  // Scheduled deprecations, disablements and revocations: pg-boss's cron, once a minute, one
  // worker at a time whatever the number of workers.
  await boss.schedule("release.apply-scheduled", "* * * * *", {}, { singletonKey: "release.apply-scheduled" });
  // Retention rules, daily by default; an empty HANGAR_RETENTION_CRON stops the schedule.
  const retentionCron = env().HANGAR_RETENTION_CRON;
  if (retentionCron) await boss.schedule("retention.run", retentionCron, {}, { singletonKey: "retention.run" });
  else await boss.unschedule("retention.run");
  const running = new Map<JobRun, Promise<void>>();
  let stopping = false;
  for (const name of jobNames) {
    const handler = handlers[name] as JobHandler<JobName>;
    const timeLimitMs = timeLimits[name] ?? jobTimeLimit(name);
    for (let slot = 0; slot < concurrency; slot += 1) {
      await boss.work<JobPayloads[typeof name]>(name, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        if (!job) return;
        const run = startJobRun(name, { limitMs: timeLimitMs });
        // A job fetched while the worker stops still ends with the reason rather than vanishing.
        if (stopping) run.shutdown();
        const started = performance.now();
        const result = (outcome: "succeeded" | "failed"): JobResult => jobStopped(run.signal)?.why ?? outcome;
        const done = handler(job.data, { jobId: job.id, signal: run.signal, timeLimitMs })
          .then(
            () => observeJob(name, result("succeeded"), (performance.now() - started) / 1000),
            (error: unknown) => {
              observeJob(name, result("failed"), (performance.now() - started) / 1000);
              throw error;
            },
          )
          .finally(() => {
            run.finish();
            running.delete(run);
          });
        running.set(run, done);
        await done;
      });
    }
  }
  // Every worker watches for builds whose worker died, including at its own start.
  const sweep = () =>
    void sweepStaleBuilds({ log, queue: boss }).catch((error) =>
      log(`build sweep failed: ${(error as Error).message}`),
    );
  sweep();
  const sweeper = setInterval(sweep, 5000);
  const limits = jobNames.flatMap((name) => {
    const limit = timeLimits[name] ?? jobTimeLimit(name);
    return limit === null ? [] : [`${name} ${formatDuration(limit)}`];
  });
  log(
    `Job worker started (${concurrency} at a time per kind: ${jobNames.join(", ")}; time limits: ${limits.join(", ")}).`,
  );
  return {
    // Running jobs end failed with the reason and their process groups are killed before this
    // returns, so stopping Hangar leaves no virt-customize or qemu behind.
    async stop() {
      stopping = true;
      clearInterval(sweeper);
      await Promise.all(jobNames.map((name) => boss.offWork(name).catch(() => {})));
      const deadline = Date.now() + 30_000;
      while (running.size > 0 && Date.now() < deadline) {
        for (const run of running.keys()) run.shutdown();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(running.values()),
          new Promise((resolve) => (timer = setTimeout(resolve, Math.max(deadline - Date.now(), 0)))),
        ]);
        clearTimeout(timer);
      }
      if (running.size > 0) log(`${running.size} job(s) did not finish their clean-up within 30 s of the stop.`);
      globalForQueue.hangarWorkersRunning = Math.max((globalForQueue.hangarWorkersRunning ?? 1) - 1, 0);
      await boss.stop({ graceful: true, timeout: 5000, close: true });
    },
  };
}
