// `npm run worker`: a job worker on its own, for more throughput on this or another machine.
// It needs the same DATABASE_URL and HANGAR_DATA_DIR (shared storage) as the web process.
import { closeDb } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { jobHandlers } from "../lib/jobs/handlers";
import { startWorker } from "../lib/jobs/queue";
import { readEnv } from "../lib/env";
import { reconcileContentScans } from "../lib/content/requests";
import { checkBlobStoreReachable } from "../lib/storage";
import { sweepBlobChecksums } from "../lib/storage/checksums";
import { startMetricsServer } from "../lib/observability/http";
import { lineLogger, logger } from "../lib/observability/log";
import { registerProcess } from "../lib/processes/registry";
import { startProcessSweeps } from "../lib/processes/sweep";

const config = readEnv();
const log = lineLogger("worker");
if (!config.DATABASE_URL) {
  logger().fatal(
    "Set DATABASE_URL to the PostgreSQL the web process uses (a separate worker can't start the embedded one).",
  );
  process.exit(1);
}
await applyMigrations(config.DATABASE_URL);
const registered = await registerProcess({ kind: "worker", log });
const sweeps = startProcessSweeps({ log });
const worker = await startWorker({ handlers: jobHandlers, concurrency: config.HANGAR_WORKER_CONCURRENCY, log });
// A worker serves no HTTP; its metrics (job durations, queue depth) are scraped from a port of its own.
const metricsServer = config.HANGAR_METRICS_PORT
  ? await startMetricsServer({ host: config.HANGAR_METRICS_HOST, port: config.HANGAR_METRICS_PORT }).catch(
      async (error: Error) => {
        logger().fatal(
          `Can't serve metrics on ${config.HANGAR_METRICS_HOST}:${config.HANGAR_METRICS_PORT}: ${error.message}`,
        );
        await worker.stop();
        await closeDb();
        process.exit(1);
      },
    )
  : undefined;
let stopping = false;
// Running jobs end failed with the reason and their process groups are killed before the exit.
const stop = async () => {
  if (stopping) return;
  stopping = true;
  metricsServer?.close();
  await worker.stop();
  await sweeps.stop();
  await registered.deregister().catch(() => {});
  await closeDb();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
// A bucket Hangar can't use is said at start, naming the setting to fix.
void checkBlobStoreReachable().then(
  (what) => log(`Blob store: ${what}.`),
  (error: unknown) => logger().error({ err: error }, `The blob store can't be used: ${(error as Error).message}`),
);
// Ready versions whose content was never read (from before inspection existed) get their scan; in
// the background, after the stop handlers, so a stop during a long backlog still ends jobs cleanly.
void reconcileContentScans({ log }).catch((error) =>
  logger().error({ err: error }, `content inspection reconcile failed: ${(error as Error).message}`),
);
void sweepBlobChecksums({ log }).catch((error) =>
  logger().error({ err: error }, `checksum sweep failed: ${(error as Error).message}`),
);
