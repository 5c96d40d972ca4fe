// /healthz, /readyz and /metrics, the request id and the access metrics, on a real HTTP server
// composed as scripts/start.ts composes it, over a PostgreSQL of this file's own (it is stopped
// here to see /readyz go unready, so the shared test database is left alone).
import { chmod, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "@/db/client";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "@/db/embedded";
import { markDatabaseAvailable } from "@/db/health";
import { applyMigrations } from "@/db/migrate";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "@/lib/auth/client-address";
import { HangarError, withRouteErrors } from "@/lib/errors";
import { answeredDatabaseUnavailable } from "@/lib/http/database-unavailable";
import { closeQueue, enqueue, jobNames, startWorker, type JobHandlers } from "@/lib/jobs/queue";
import { answerOperations, observeRequest, startMetricsServer } from "./http";
import { runWithRequestId } from "./request-context";
import { routeSegmentsOf } from "./route-label";

process.env.HANGAR_LOG_LEVEL = "warn";

/** The Prometheus text format, line by line: every sample line must parse. */
function parseMetrics(text: string): { name: string; labels: string; value: number }[] {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const value = match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : Number(match[3]);
    if (Number.isNaN(value) && match[3] !== "NaN") throw new Error(`not a value: ${line}`);
    samples.push({ name: match[1]!, labels: match[2] ?? "", value });
  }
  return samples;
}

function startServer({ metricsToken }: { metricsToken?: string }): Promise<{ base: string; close: () => void }> {
  const knownSegments = routeSegmentsOf(path.join(import.meta.dirname, "../../app"));
  // Stands in for Next: one route that fails the way a route handler does.
  const route = withRouteErrors(async (_request: Request) => {
    throw new HangarError("not_found", "There is no such image.");
  });
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    // One proxy in front, as with HANGAR_TRUST_PROXY=1: X-Forwarded-For names the client.
    const address = clientAddress({
      socketAddress: req.socket.remoteAddress,
      forwardedFor: req.headers["x-forwarded-for"],
      trustedProxies: 1,
    });
    req.headers[CLIENT_ADDRESS_HEADER] = address;
    const requestId = observeRequest(req, res, { pathname, knownSegments });
    runWithRequestId(requestId, () => {
      void answerOperations(req, res, { pathname, metricsToken, clientAddress: address }).then(async (answered) => {
        if (answered || answeredDatabaseUnavailable(req, res, pathname)) return;
        const headers = new Headers(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
        const response = await route(new Request(`http://localhost${req.url}`, { headers }));
        res.writeHead(response.status, { "Content-Type": "application/json" }).end(await response.text());
      });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => server.close(),
      }),
    ),
  );
}

describe("operations endpoints", () => {
  let work: string;
  let database: EmbeddedDatabase;
  let open: { base: string; close: () => void };
  let guarded: { base: string; close: () => void };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "hangar-ops-"));
    await chmod(work, 0o755); // the server runs as the postgres user and must reach its folder
    database = await startEmbeddedPostgres({ dataDir: work, log: () => {} });
    await applyMigrations(database.url);
    await closeDb();
    process.env.DATABASE_URL = database.url;
    process.env.HANGAR_DATA_DIR = work;
    open = await startServer({});
    guarded = await startServer({ metricsToken: "metrics-secret-token" });
  });

  afterAll(async () => {
    open?.close();
    guarded?.close();
    await closeQueue().catch(() => {});
    await closeDb().catch(() => {});
    await database?.stop().catch(() => {});
    markDatabaseAvailable();
    await rm(work, { recursive: true, force: true });
  });

  it("answers /healthz without a database, with a request id", async () => {
    const response = await fetch(`${open.base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes a safe incoming request id, replaces an unsafe one, and puts it in error bodies", async () => {
    const echoed = await fetch(`${open.base}/api/images/nothing`, { headers: { "X-Request-Id": "edge-7f3a.1" } });
    expect(echoed.headers.get("x-request-id")).toBe("edge-7f3a.1");
    expect(echoed.status).toBe(404);
    expect(await echoed.json()).toEqual({
      error: { code: "not_found", message: "There is no such image.", requestId: "edge-7f3a.1" },
    });
    const replaced = await fetch(`${open.base}/api/images/nothing`, {
      headers: { "X-Request-Id": `<script> ${"x".repeat(80)}` },
    });
    const id = replaced.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await replaced.json()) as { error: { requestId: string } }).error.requestId).toBe(id);
  });

  it("is ready only when every check passes, and says which failed", async () => {
    // No job worker runs here: the sending client starts (installing pg-boss's tables) instead.
    const response = await fetch(`${open.base}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; checks: { name: string; ok: boolean; reason: string }[] };
    expect(body.status).toBe("ready");
    expect(body.checks.map((check) => [check.name, check.ok])).toEqual([
      ["database", true],
      ["migrations", true],
      ["blob_store", true],
      ["queue", true],
    ]);
    expect(body.checks[3]!.reason).toMatch(/sending client/);
  });

  it("is unready while a migration is missing, and names it", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const removed = await client.query<{ id: number; hash: string; created_at: string }>(
      "delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations) returning id, hash, created_at",
    );
    try {
      let response: Response | undefined;
      for (let attempt = 0; attempt < 40 && response?.status !== 503; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await fetch(`${open.base}/readyz`);
      }
      expect(response!.status).toBe(503);
      const body = (await response!.json()) as { checks: { name: string; ok: boolean; reason: string }[] };
      expect(body.checks.find((check) => check.name === "migrations")).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^1 migration\(s\) not applied: 00\d\d_/),
      });
    } finally {
      const row = removed.rows[0]!;
      await client.query("insert into drizzle.__drizzle_migrations (id, hash, created_at) values ($1, $2, $3)", [
        row.id,
        row.hash,
        row.created_at,
      ]);
      await client.end();
    }
  });

  it("serves Prometheus metrics to loopback clients, with every family after a request", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query("insert into blobs (sha256, sha512, size) values ($1, $2, 123456789)", [
      "a".repeat(64),
      "b".repeat(128),
    ]);
    await client.end();
    await fetch(`${open.base}/healthz`);
    await fetch(`${open.base}/api/images/debian-12-base`);

    const response = await fetch(`${open.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    const samples = parseMetrics(text);
    const sample = (name: string, labels = "") =>
      samples.find((entry) => entry.name === name && entry.labels.includes(labels));
    expect(sample("hangar_http_requests_total", 'route="/healthz",status="200"')?.value).toBeGreaterThanOrEqual(2);
    // The slug became :id: a made-up path never becomes a label value of its own.
    expect(sample("hangar_http_requests_total", 'route="/api/images/:id",status="404"')).toBeDefined();
    expect(text).not.toContain("debian-12-base");
    expect(sample("hangar_http_request_duration_seconds_bucket", 'route="/healthz"')).toBeDefined();
    expect(sample("hangar_blob_store_bytes")?.value).toBe(123456789);
    expect(sample("hangar_builds_running")?.value).toBe(0);
    expect(sample("hangar_db_pool_connections", 'state="total"')?.value).toBeGreaterThan(0);
    expect(sample("hangar_uploads_in_flight")?.value).toBe(0);
    expect(sample("hangar_upload_bytes_received_total")?.value).toBe(0);
    for (const family of ["hangar_job_duration_seconds histogram", "hangar_queue_jobs gauge"])
      expect(text).toContain(`# TYPE ${family}`);

    // Not from loopback (the trusted proxy says the client is elsewhere) and no token configured.
    const remote = await fetch(`${open.base}/metrics`, { headers: { "X-Forwarded-For": "203.0.113.9" } });
    expect(remote.status).toBe(403);
  });

  it("refuses /metrics without the token when HANGAR_METRICS_TOKEN is set", async () => {
    const missing = await fetch(`${guarded.base}/metrics`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/Bearer/);
    const wrong = await fetch(`${guarded.base}/metrics`, { headers: { Authorization: "Bearer not-it" } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${guarded.base}/metrics`, {
      headers: { Authorization: "Bearer metrics-secret-token", "X-Forwarded-For": "203.0.113.9" },
    });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("hangar_http_requests_total");
  });

  it("serves metrics without auth on a port of their own", async () => {
    const server = await startMetricsServer({ host: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const response = await fetch(`${base}/metrics`, { headers: { "X-Forwarded-For": "203.0.113.9" } });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("# TYPE hangar_builds_running gauge");
      expect((await fetch(`${base}/healthz`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it("times jobs by kind and result, and counts the queue", async () => {
    process.env.HANGAR_ACCEL = "tcg"; // no KVM probe in this test
    const handlers = Object.fromEntries(jobNames.map((name) => [name, async () => {}])) as unknown as JobHandlers;
    handlers["image.clone"] = async () => {};
    handlers["content.diff"] = async () => {
      throw new Error("the comparison failed");
    };
    const worker = await startWorker({ handlers, log: () => {} });
    try {
      await enqueue("image.clone", { cloneId: "00000000-0000-0000-0000-000000000001" });
      await enqueue("content.diff", { diffId: "00000000-0000-0000-0000-000000000002" }, { retryLimit: 0 });
      let text = "";
      for (let attempt = 0; attempt < 100; attempt += 1) {
        text = await (await fetch(`${open.base}/metrics`)).text();
        if (text.includes('kind="content.diff",result="failed"') && text.includes('kind="image.clone"')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const samples = parseMetrics(text);
      const count = (labels: string) =>
        samples.find((entry) => entry.name === "hangar_job_duration_seconds_count" && entry.labels.includes(labels))
          ?.value;
      expect(count('kind="image.clone",result="succeeded"')).toBe(1);
      expect(count('kind="content.diff",result="failed"')).toBe(1);
      // Once the cached answer (1.5 s) is renewed, the queue check sees the worker.
      let reason = "";
      for (let attempt = 0; attempt < 40 && !/worker runs in this process/.test(reason); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const readyz = (await (await fetch(`${open.base}/readyz`)).json()) as {
          checks: { name: string; reason: string }[];
        };
        reason = readyz.checks.find((check) => check.name === "queue")?.reason ?? "";
      }
      expect(reason).toBe("A job worker runs in this process.");
    } finally {
      await worker.stop();
    }
  });

  it("goes unready with the reason when the database stops, while /healthz and /metrics still answer", async () => {
    await closeQueue();
    await database.stop();
    type Body = { status: string; checks: { name: string; ok: boolean; reason: string }[] };
    let response: Response | undefined;
    let body: Body | undefined;
    // Other checks may fail first while the server shuts down; wait for the database's own.
    for (let attempt = 0; attempt < 100; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      response = await fetch(`${open.base}/readyz`);
      body = (await response.json()) as Body;
      if (!body.checks[0]!.ok) break;
    }
    expect(response!.status).toBe(503);
    expect(body!.status).toBe("unready");
    expect(body!.checks[0]).toMatchObject({
      name: "database",
      ok: false,
      reason: expect.stringMatching(/PostgreSQL does not answer/),
    });
    expect(body!.checks.find((check) => check.name === "blob_store")?.ok).toBe(true);
    expect((await fetch(`${open.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${open.base}/metrics`)).status).toBe(200);
    // Everything else gets the outage's 503, with the request id to quote.
    const api = await fetch(`${open.base}/api/images/x`);
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: { requestId: string } }).error.requestId).toBe(
      api.headers.get("x-request-id"),
    );
  });
});
