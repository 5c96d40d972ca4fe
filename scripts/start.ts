// `npm start`: one process that owns everything Hangar needs. It starts the embedded PostgreSQL
// unless DATABASE_URL points elsewhere, applies migrations, seeds first-run data, then serves HTTP
// itself: tus uploads go straight to tus's Node handler (no App Router layers on the byte path),
// everything else to Next.js, embedded as a custom server. Stopping it (Ctrl-C, SIGTERM) stops
// everything it started.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { closeDb } from "../db/client";
import { sharedSecret } from "../db/queries/instance-secrets";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded";
import { isConnectionError } from "../db/health";
import { applyMigrations } from "../db/migrate";
import { ensureAdmin, seedDemoCatalog } from "../db/seed";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "../lib/auth/client-address";
import { readEnv } from "../lib/env";
import { answerOperations, observeRequest, startMetricsServer } from "../lib/observability/http";
import { lineLogger, logger } from "../lib/observability/log";
import { runWithRequestId } from "../lib/observability/request-context";
import { routeSegmentsOf } from "../lib/observability/route-label";
import {
  answeredDatabaseUnavailable,
  answerOutageErrorsAs503,
  writeDatabaseUnavailable,
} from "../lib/http/database-unavailable";
import { reconcileStorage } from "../lib/imports/reconcile";
import { registerProcess, type RegisteredProcess } from "../lib/processes/registry";
import { startProcessSweeps } from "../lib/processes/sweep";
import { createUploadServer, isUploadPath, uploadViewerOf } from "../lib/imports/tus";
import { handleFeedNode, isFeedPath } from "../lib/feeds/http";
import { sendNamedBlobs } from "../lib/http/send-file";
import { checkBlobStoreReachable, openBlobRange } from "../lib/storage";
import { reconcileContentScans } from "../lib/content/requests";
import { sweepBlobChecksums } from "../lib/storage/checksums";
import { jobHandlers } from "../lib/jobs/handlers";
import { closeQueue, startWorker, type Worker } from "../lib/jobs/queue";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = process.argv.includes("--dev");
const log = lineLogger("hangar");

/**
 * AUTH_SECRET when set; otherwise the one every process of this Hangar shares, kept in PostgreSQL
 * (the first process to start makes it). An older install's `auth-secret` file in the data folder is
 * what it proposes, so sessions signed before the secret moved stay valid.
 */
async function authSecret(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, "auth-secret");
  const proposed = existsSync(file) ? (await readFile(file, "utf8")).trim() : randomBytes(32).toString("base64url");
  return sharedSecret({ name: "auth", proposed });
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

async function main() {
  let config;
  try {
    config = readEnv();
  } catch (error) {
    // The logger reads its level from the same (invalid) configuration: this one goes out plainly.
    console.error((error as Error).message);
    process.exit(1);
  }
  await mkdir(config.dataDir, { recursive: true });
  let embedded: EmbeddedDatabase | undefined;
  let server: http.Server | undefined;
  let metricsServer: http.Server | undefined;
  let closeNext: (() => Promise<void>) | undefined;
  let worker: Worker | undefined;
  let registered: RegisteredProcess | undefined;
  let sweeps: { stop(): Promise<void> } | undefined;
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("Stopping: running jobs end now (each says why) and their processes are killed...");
    // The worker stops alongside the HTTP server: its builds' virt-customize and qemu must be gone
    // before this process exits, and requests in flight don't need them.
    const workerStopped = worker?.stop().catch((error) => logger().error({ err: error }, "worker stop failed"));
    metricsServer?.close();
    if (server?.listening) {
      // Requests in flight get a moment to finish; then the rest are cut (an upload resumes later).
      const closed = new Promise((resolve) => server?.close(resolve));
      server.closeIdleConnections();
      const timer = setTimeout(() => server?.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(timer);
    }
    await closeNext?.().catch((error) => logger().error({ err: error }, "Next.js stop failed"));
    await workerStopped;
    await sweeps?.stop();
    // Last, once its work has ended: what it still owned is then free for any other process's sweep.
    // If PostgreSQL is already gone (a test harness stopping it first), the row simply expires.
    await registered
      ?.deregister()
      .catch((error: Error) =>
        logger().warn(
          `Could not remove this process's row (${error.message}); other processes treat it as gone once its lease expires.`,
        ),
      );
    // The sending queue client (server actions enqueue through it) goes before its database does.
    await closeQueue().catch(() => {});
    await closeDb().catch(() => {});
    if (embedded) {
      log("Stopping the embedded PostgreSQL...");
      await embedded.stop().catch((error) => logger().error({ err: error }, "PostgreSQL stop failed"));
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      log(`Starting the embedded PostgreSQL (data in ${path.join(config.dataDir, "pg")})...`);
      // Its supervisor restarts it if it dies; if it can't, Hangar exits for a service manager to restart.
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log, onGiveUp: () => void shutdown(1) });
      databaseUrl = embedded.url;
    } else {
      log("Using the PostgreSQL server from DATABASE_URL.");
    }
    // Next.js and Auth.js run in this process and read their settings from its environment.
    Object.assign(process.env, {
      DATABASE_URL: databaseUrl,
      HANGAR_DATA_DIR: config.dataDir,
      // Auth.js builds its URLs from AUTH_URL when set, else from each request's Host header:
      // setting it to the configured origin makes every URL Hangar hands out start the same way.
      AUTH_URL: config.origin,
      AUTH_TRUST_HOST: "true",
      PORT: String(config.PORT),
      NODE_ENV: dev ? "development" : "production",
    });
    await applyMigrations(databaseUrl);
    log("Database schema is up to date.");
    const secret = await authSecret(config.dataDir, config.AUTH_SECRET);
    process.env.AUTH_SECRET = secret;
    // Registered before anything is written, so every temp file and blob write names its owner.
    registered = await registerProcess({ kind: "web", log });
    const adminId = await ensureAdmin({
      email: config.HANGAR_ADMIN_EMAIL,
      password: config.HANGAR_ADMIN_PASSWORD,
      log,
    });
    if (config.HANGAR_SEED_DEMO) await seedDemoCatalog({ adminId, log });
    // A bucket Hangar can't use is said at start, naming the setting to fix; /readyz stays unready.
    await checkBlobStoreReachable().then(
      (what) => log(`Blob store: ${what}.`),
      (error: unknown) => logger().error({ err: error }, `The blob store can't be used: ${(error as Error).message}`),
    );
    await reconcileStorage({ log });
    sweeps = startProcessSweeps({ log });
    if (config.HANGAR_WORKER_CONCURRENCY > 0) {
      worker = await startWorker({ handlers: jobHandlers, concurrency: config.HANGAR_WORKER_CONCURRENCY, log });
      // Ready versions whose content was never read (the demo catalog just seeded, versions from
      // before inspection existed) get their scan: one insert..select, then a job per scan, in the
      // background so a large backlog never delays the first page.
      void reconcileContentScans({ log }).catch((error) =>
        log(`Content inspection reconcile failed: ${(error as Error).message}`),
      );
      // Stored files still lacking sha512 or md5 (a job lost to a crash, files from before md5).
      void sweepBlobChecksums({ log }).catch((error) => log(`Checksum sweep failed: ${(error as Error).message}`));
    }

    if (!dev && !existsSync(path.join(root, ".next", "BUILD_ID"))) {
      log("No production build found; running `next build` once (about a minute)...");
      await run(
        process.execPath,
        [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"],
        process.env,
      );
    }
    // Loaded only now: React picks its development or production build from NODE_ENV as it loads.
    const { default: next } = await import("next");
    server = http.createServer();
    // Handed the server, Next.js answers its own websocket upgrades (next dev's hot reload).
    const app = next({ dev, dir: root, port: config.PORT, httpServer: server });
    await app.prepare();
    closeNext = () => app.close();
    const handleNext = app.getRequestHandler();
    const uploads = createUploadServer({
      viewerOf: (request) => uploadViewerOf(request, { secret }),
    });
    // The metrics' route label keeps only the static names of Hangar's own routes.
    const knownSegments = routeSegmentsOf(path.join(root, "app"));
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
      // Set here, where the socket is known, over anything a client sent under that name.
      const address = clientAddress({
        socketAddress: req.socket.remoteAddress,
        forwardedFor: req.headers["x-forwarded-for"],
        trustedProxies: config.HANGAR_TRUST_PROXY,
      });
      req.headers[CLIENT_ADDRESS_HEADER] = address;
      const requestId = observeRequest(req, res, { pathname, knownSegments });
      runWithRequestId(requestId, () => {
        const fail = (error: unknown) => {
          logger().error({ err: error, requestId }, "request failed");
          if (!res.headersSent) {
            if (isConnectionError(error)) writeDatabaseUnavailable(req, res, pathname);
            else res.writeHead(500).end();
          } else res.destroy();
        };
        // Health, readiness and metrics answer before the outage gate: they report the outage.
        void answerOperations(req, res, { pathname, metricsToken: config.HANGAR_METRICS_TOKEN, clientAddress: address })
          .then((answered) => {
            if (answered) return;
            // During a database outage, answer a clear 503 at once instead of running into it.
            if (answeredDatabaseUnavailable(req, res, pathname)) return;
            answerOutageErrorsAs503(res);
            if (isUploadPath(pathname)) return uploads.handleNode(req, res);
            if (isFeedPath(pathname)) return handleFeedNode(req, res, { address });
            // Downloads answered by a route are named, then sent by the fast loop (lib/http/send-file.ts).
            sendNamedBlobs(req, res, {
              openBlob: ({ sha256, start, end }) => openBlobRange(sha256, { start, end }),
              onError: (error) => logger().error({ err: error, requestId }, "download failed"),
            });
            return handleNext(req, res);
          })
          .catch(fail);
      });
    });
    await new Promise<void>((resolve, reject) => server?.once("error", reject).listen(config.PORT, resolve));
    if (config.HANGAR_METRICS_PORT)
      metricsServer = await startMetricsServer({ host: config.HANGAR_METRICS_HOST, port: config.HANGAR_METRICS_PORT });
    log(`Hangar is ready on ${config.origin}`);
  } catch (error) {
    logger().fatal({ err: error }, `Start-up failed: ${(error as Error).message}`);
    await shutdown(1);
  }
}

void main();
