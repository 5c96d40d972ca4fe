// Jobs (URL imports, conversions, later builds) run on pg-boss in the same PostgreSQL as
// everything else: no extra service to run, and enqueueing can share a transaction's database.
// The web process only sends; workers (in-process by default, or `npm run worker`) execute.
import PgBoss from "pg-boss";
import type { DiskFormat } from "@/db/schema";
import { sweepStaleBuilds } from "@/lib/builds/sweeper";

export const jobNames = ["image.import-url", "image.convert", "image.build", "image.clone", "release.apply-scheduled"] as const;
export type JobName = (typeof jobNames)[number];

export interface JobPayloads {
  "image.import-url": { versionId: string; url: string; claimedFormat: DiskFormat | null; expectedSha256: string | null; actorId: string };
  "image.convert": { conversionId: string };
  "image.build": { buildId: string };
  "image.clone": { cloneId: string };
  "release.apply-scheduled": Record<string, never>;
}

export type JobHandler<Name extends JobName> = (data: JobPayloads[Name], context: { jobId: string; signal: AbortSignal }) => Promise<void>;
export type JobHandlers = { [Name in JobName]: JobHandler<Name> };

const globalForQueue = globalThis as unknown as { hangarBoss?: Promise<PgBoss> };

function connectionString(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set; the job queue lives in Hangar's PostgreSQL.");
  return url;
}

async function createQueues(boss: PgBoss): Promise<void> {
  for (const name of jobNames) {
    // expireInSeconds bounds how long a job may run before another worker may take it over.
    // A build is never retried by the queue: a build whose worker died ends failed (see
    // lib/builds/sweeper.ts) and the person retries it, so no build can produce two outputs.
    await boss.createQueue(name, { name, retryLimit: name === "image.build" ? 0 : 2, retryDelay: 5, expireInSeconds: 4 * 60 * 60 });
  }
}

/** A sending-only client for the web process. */
export function queue(): Promise<PgBoss> {
  globalForQueue.hangarBoss ??= (async () => {
    // It installs the queue's schema and queues when it is first (a web process may start
    // before any worker has); both are idempotent and guarded by pg-boss's own advisory lock.
    const boss = new PgBoss({ connectionString: connectionString(), max: 3, supervise: false, schedule: false });
    boss.on("error", (error) => console.error("job queue error", error));
    await boss.start();
    await createQueues(boss);
    return boss;
  })();
  return globalForQueue.hangarBoss;
}

/** Closes the sending client, if one was opened (scripts and benchmarks that stop their database). */
export async function closeQueue(): Promise<void> {
  const boss = globalForQueue.hangarBoss;
  globalForQueue.hangarBoss = undefined;
  if (boss) await (await boss).stop({ graceful: false, close: true });
}

export async function enqueue<Name extends JobName>(name: Name, data: JobPayloads[Name], options: PgBoss.SendOptions = {}): Promise<string> {
  const boss = await queue();
  const id = await boss.send(name, data, options);
  if (!id) throw new Error(`the job queue did not accept a ${name} job`);
  return id;
}

export interface Worker {
  stop: () => Promise<void>;
}

/** Starts a worker that runs `concurrency` jobs of each kind at a time. */
export async function startWorker({
  handlers,
  concurrency = 1,
  log = console.log,
}: {
  handlers: JobHandlers;
  concurrency?: number;
  log?: (line: string) => void;
}): Promise<Worker> {
  const boss = new PgBoss({ connectionString: connectionString(), max: 2 + concurrency * jobNames.length });
  boss.on("error", (error) => log(`job queue error: ${(error as Error).message}`));
  await boss.start();
  await createQueues(boss);
  // Scheduled deprecations, disablements and revocations: pg-boss's cron, once a minute, one
  // worker at a time whatever the number of workers.
  await boss.schedule("release.apply-scheduled", "* * * * *", {}, { singletonKey: "release.apply-scheduled" });
  const controllers = new Set<AbortController>();
  for (const name of jobNames) {
    const handler = handlers[name] as JobHandler<JobName>;
    for (let slot = 0; slot < concurrency; slot += 1) {
      await boss.work<JobPayloads[typeof name]>(name, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        if (!job) return;
        const controller = new AbortController();
        controllers.add(controller);
        try {
          await handler(job.data, { jobId: job.id, signal: controller.signal });
        } finally {
          controllers.delete(controller);
        }
      });
    }
  }
  // Every worker watches for builds whose worker died, including at its own start.
  const sweep = () => void sweepStaleBuilds({ log }).catch((error) => log(`build sweep failed: ${(error as Error).message}`));
  sweep();
  const sweeper = setInterval(sweep, 5000);
  log(`Job worker started (${concurrency} at a time per kind: ${jobNames.join(", ")}).`);
  return {
    async stop() {
      clearInterval(sweeper);
      for (const controller of controllers) controller.abort(new Error("worker stopping"));
      await boss.stop({ graceful: true, timeout: 10_000, close: true });
    },
  };
}
