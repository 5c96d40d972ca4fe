// What Hangar answers while PostgreSQL is unreachable (db/health.ts): a 503 that says so and when
// to retry, as a small self-contained page for people and as JSON for /api/ routes and tus uploads,
// instead of a bare 500 from whichever query failed first.
import type http from "node:http";
import { isDatabaseAvailable } from "@/db/health";
import { errorBody, httpStatusOf, type ErrorBody } from "@/lib/errors";
import { REQUEST_ID_HEADER } from "@/lib/observability/request-id";

export const RETRY_AFTER_SECONDS = 5;
export const DATABASE_UNAVAILABLE_MESSAGE = `The database is unavailable at the moment (it is being restarted or cannot be reached). Nothing was changed; retry in ${RETRY_AFTER_SECONDS} seconds.`;

/** Next's built assets need no database; an open page keeps loading its scripts during an outage. */
function needsDatabase(pathname: string): boolean {
  return !pathname.startsWith("/_next/static/") && pathname !== "/icon.svg" && pathname !== "/favicon.ico";
}

export function databaseUnavailableBody(requestId?: string): ErrorBody {
  return errorBody("database_unavailable", DATABASE_UNAVAILABLE_MESSAGE, undefined, requestId);
}

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${RETRY_AFTER_SECONDS * 2}">
<title>Database unavailable · Hangar</title>
</head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<main role="alert">
<h1 style="font-size: 1.25rem">The database is unavailable</h1>
<p>Hangar can't reach its database right now: it is being restarted or cannot be reached. Nothing was changed.</p>
<p>Retry in a few seconds; this page reloads by itself. If it keeps happening, tell an admin.</p>
</main>
</body>
</html>
`;

/** Answers a request with the 503: JSON for the API and uploads, a page for everything else. */
export function writeDatabaseUnavailable(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
  const json = pathname.startsWith("/api/") || !(req.headers.accept ?? "").includes("text/html");
  const requestId = req.headers[REQUEST_ID_HEADER];
  const body = json
    ? JSON.stringify(databaseUnavailableBody(typeof requestId === "string" ? requestId : undefined))
    : page;
  const headers: http.OutgoingHttpHeaders = {
    "Content-Type": json ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Retry-After": String(RETRY_AFTER_SECONDS),
    "Cache-Control": "no-store",
  };
  // tus clients read this header on every answer, errors included.
  if (req.headers["tus-resumable"]) headers["Tus-Resumable"] = "1.0.0";
  // An unread request body (an upload) is not wanted: close that connection rather than read it to
  // the end, and say so, so the client does not reuse it. A bodiless request keeps its connection.
  const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
  if (hasBody && !req.complete) {
    headers.Connection = "close";
    res.once("finish", () => req.destroy());
  }
  res.writeHead(httpStatusOf("database_unavailable"), headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** The HTTP server's gate: during an outage, answers the 503 at once and returns true. */
export function answeredDatabaseUnavailable(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
): boolean {
  if (isDatabaseAvailable() || !needsDatabase(pathname)) return false;
  writeDatabaseUnavailable(req, res, pathname);
  return true;
}

/**
 * A page that was already rendering when PostgreSQL went away ends in Next's error page with a
 * 500; by the time its head is written the pool's error has usually told db/health.ts. Such an
 * answer goes out as the 503 it is, with Retry-After, so clients and proxies retry instead of
 * reporting a server fault (the page itself already says the database is unavailable).
 */
export function answerOutageErrorsAs503(res: http.ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: http.ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (statusCode === 500 && !isDatabaseAvailable()) {
      this.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
      this.setHeader("Cache-Control", "no-store");
      statusCode = 503;
    }
    return (writeHead as (this: http.ServerResponse, code: number, ...more: unknown[]) => http.ServerResponse).call(
      this,
      statusCode,
      ...rest,
    );
  } as typeof res.writeHead;
}
