// What the HTTP server does for operators on every request: a request id, one access-log line and
// the request metrics; and the operational endpoints it answers itself, ahead of Next.js and of
// the database-outage gate (they must answer during an outage, and must stay cheap):
// /healthz (the process is alive), /readyz (lib/observability/readiness.ts) and /metrics.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import ipaddr from "ipaddr.js";
import { logger } from "./log";
import { metricsText, observeHttpRequest } from "./metrics";
import { readiness } from "./readiness";
import { REQUEST_ID_HEADER, requestIdFor } from "./request-context";
import { routeLabel } from "./route-label";

/**
 * Gives the request its id (on the request's headers for route handlers, and on the response),
 * and when it ends writes its access-log line and its metrics. Returns the id.
 */
export function observeRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { pathname, knownSegments }: { pathname: string; knownSegments: ReadonlySet<string> },
): string {
  const requestId = requestIdFor(req.headers[REQUEST_ID_HEADER]);
  req.headers[REQUEST_ID_HEADER] = requestId;
  res.setHeader("X-Request-Id", requestId);
  const started = performance.now();
  const writtenBefore = req.socket.bytesWritten;
  res.once("close", () => {
    const seconds = (performance.now() - started) / 1000;
    const route = routeLabel(pathname, knownSegments);
    const method = req.method ?? "GET";
    // A request the client gave up on before its answer was complete is logged as such.
    const aborted = !res.writableFinished;
    observeHttpRequest({ method, route, status: res.statusCode }, seconds);
    logger().info(
      {
        requestId,
        method,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 10_000) / 10,
        bytes: req.socket.bytesWritten - writtenBefore,
        ...(aborted ? { aborted } : {}),
      },
      "request",
    );
  });
  return requestId;
}

function writeJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function isLoopback(address: string | undefined): boolean {
  return !!address && ipaddr.isValid(address) && ipaddr.process(address).range() === "loopback";
}

/** Whether this request may read /metrics: the bearer token when one is set, else loopback only. */
export function metricsAllowed(
  req: http.IncomingMessage,
  { token, clientAddress }: { token: string | undefined; clientAddress: string | undefined },
): boolean {
  if (token) {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    return !!match && sameSecret(match[1]!, token);
  }
  return isLoopback(clientAddress);
}

async function writeMetrics(res: http.ServerResponse): Promise<void> {
  const { contentType, body } = await metricsText();
  res.writeHead(200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  res.end(body);
}

/**
 * Answers /healthz, /readyz and /metrics and returns true; any other path returns false. No
 * sign-in: /metrics is guarded by `metricsToken` (or loopback only when unset).
 */
export async function answerOperations(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { pathname, metricsToken, clientAddress }: { pathname: string; metricsToken?: string; clientAddress?: string },
): Promise<boolean> {
  if (pathname !== "/healthz" && pathname !== "/readyz" && pathname !== "/metrics") return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    writeJson(res, 405, { error: { code: "method_not_allowed", message: `${pathname} answers GET only.` } });
    return true;
  }
  if (pathname === "/healthz") {
    writeJson(res, 200, { status: "ok" });
  } else if (pathname === "/readyz") {
    const { ready, checks } = await readiness();
    writeJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unready", checks });
  } else if (!metricsAllowed(req, { token: metricsToken, clientAddress })) {
    const message = metricsToken
      ? "Send the metrics token (HANGAR_METRICS_TOKEN) as `Authorization: Bearer <token>`."
      : "Metrics answer only on this machine's loopback address; set HANGAR_METRICS_TOKEN or HANGAR_METRICS_PORT to scrape them from elsewhere.";
    if (metricsToken) res.setHeader("WWW-Authenticate", 'Bearer realm="hangar-metrics"');
    writeJson(res, metricsToken ? 401 : 403, {
      error: { code: metricsToken ? "unauthenticated" : "forbidden", message },
    });
  } else {
    await writeMetrics(res);
  }
  return true;
}

/** /metrics alone, without auth, on a port of its own (HANGAR_METRICS_PORT): for the web and worker processes. */
export async function startMetricsServer({ host, port }: { host: string; port: number }): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    const answer =
      pathname === "/metrics"
        ? writeMetrics(res)
        : Promise.resolve(
            writeJson(res, 404, { error: { code: "not_found", message: "This port serves /metrics only." } }),
          );
    answer.catch((error: unknown) => {
      logger().error({ err: error }, "metrics failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  logger().info(`Metrics are served on http://${host.includes(":") ? `[${host}]` : host}:${address.port}/metrics`);
  return server;
}
