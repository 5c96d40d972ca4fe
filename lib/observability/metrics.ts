// Every Prometheus metric Hangar exposes, in one registry. Other code calls the small functions
// below; figures that live in the database (queue depth, builds running, blob bytes) and the
// connection pool are read when /metrics is scraped. The registry lives on globalThis: the custom
// server and Next's bundled server code load this module separately but must count into one.
import client from "prom-client";
import { getOperationalFigures, getPoolUsage, type OperationalFigures } from "@/db/queries/operations";

interface Metrics {
  registry: client.Registry;
  httpRequests: client.Counter<"method" | "route" | "status">;
  httpDuration: client.Histogram<"method" | "route" | "status">;
  jobDuration: client.Histogram<"kind" | "result">;
  uploadsInFlight: client.Gauge;
  uploadBytes: client.Counter;
}

const globalForMetrics = globalThis as unknown as { hangarMetrics?: Metrics };

function create(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "hangar_process_" });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    httpRequests: new client.Counter({
      name: "hangar_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    httpDuration: new client.Histogram({
      name: "hangar_http_request_duration_seconds",
      help: "Time from a request's arrival until its answer was sent, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    }),
    jobDuration: new client.Histogram({
      name: "hangar_job_duration_seconds",
      help: "How long jobs ran, by kind and result (succeeded, failed, time-limit, shutdown).",
      labelNames: ["kind", "result"],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
      registers,
    }),
    uploadsInFlight: new client.Gauge({
      name: "hangar_uploads_in_flight",
      help: "Upload requests (tus PATCH) sending bytes right now.",
      registers,
    }),
    uploadBytes: new client.Counter({
      name: "hangar_upload_bytes_received_total",
      help: "Bytes received by uploads.",
      registers,
    }),
  };
  const figures = lazyFigures();
  new client.Gauge({
    name: "hangar_queue_jobs",
    help: "Unfinished jobs by kind and state (waiting: created or retrying; active: running).",
    labelNames: ["kind", "state"],
    registers,
    async collect() {
      this.reset();
      for (const entry of (await figures())?.queue ?? []) {
        this.set({ kind: entry.kind, state: "waiting" }, entry.waiting);
        this.set({ kind: entry.kind, state: "active" }, entry.active);
      }
    },
  });
  new client.Gauge({
    name: "hangar_builds_running",
    help: "Builds running now.",
    registers,
    async collect() {
      const current = await figures();
      if (current) this.set(current.buildsRunning);
    },
  });
  new client.Gauge({
    name: "hangar_blob_store_bytes",
    help: "Bytes held by the blob store (each blob counted once).",
    registers,
    async collect() {
      const current = await figures();
      if (current) this.set(current.blobBytes);
    },
  });
  new client.Gauge({
    name: "hangar_blob_store_blobs",
    help: "Blobs in the blob store.",
    registers,
    async collect() {
      const current = await figures();
      if (current) this.set(current.blobCount);
    },
  });
  new client.Gauge({
    name: "hangar_db_pool_connections",
    help: "This process's PostgreSQL connections by state (total, idle, waiting clients, max).",
    labelNames: ["state"],
    registers,
    collect() {
      const usage = getPoolUsage() ?? { total: 0, idle: 0, waiting: 0, max: 0 };
      for (const [state, value] of Object.entries(usage)) this.set({ state }, value);
    },
  });
  return metrics;
}

/**
 * One database read per scrape, shared by the gauges that need it. During an outage it gives null
 * and those gauges keep their last values: the rest of the metrics still answer.
 */
function lazyFigures(): () => Promise<OperationalFigures | null> {
  let pending: { at: number; figures: Promise<OperationalFigures | null> } | undefined;
  return () => {
    if (!pending || Date.now() - pending.at > 1000)
      pending = { at: Date.now(), figures: getOperationalFigures().catch(() => null) };
    return pending.figures;
  };
}

function metrics(): Metrics {
  globalForMetrics.hangarMetrics ??= create();
  return globalForMetrics.hangarMetrics;
}

export function observeHttpRequest(labels: { method: string; route: string; status: number }, seconds: number): void {
  const { httpRequests, httpDuration } = metrics();
  const values = { method: labels.method, route: labels.route, status: String(labels.status) };
  httpRequests.inc(values);
  httpDuration.observe(values, seconds);
}

export type JobResult = "succeeded" | "failed" | "time-limit" | "shutdown";

export function observeJob(kind: string, result: JobResult, seconds: number): void {
  metrics().jobDuration.observe({ kind, result }, seconds);
}

/** An upload request began sending bytes; call the returned function when it ends. */
export function uploadStarted(): () => void {
  const gauge = metrics().uploadsInFlight;
  gauge.inc();
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    gauge.dec();
  };
}

export function uploadBytesReceived(bytes: number): void {
  metrics().uploadBytes.inc(bytes);
}

/** The registry's text exposition. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
