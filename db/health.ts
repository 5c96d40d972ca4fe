// Whether PostgreSQL can be reached right now, kept cheaply in memory so the HTTP server can answer
// a clear 503 during an outage instead of letting every request run into a connection error. It is
// set by the embedded database's supervisor (which sees the postmaster exit) and by the pool's
// connection errors, and cleared by a probe that retries until a query succeeds again.
// The state lives on globalThis: the custom server and Next's bundled server code are separate
// module instances in one process and must see the same answer.
import pg from "pg";
import { env } from "../lib/env";

interface HealthState {
  available: boolean;
  reason: string;
  probing: boolean;
}

const globalForHealth = globalThis as unknown as { hangarDatabaseHealth?: HealthState };

function state(): HealthState {
  globalForHealth.hangarDatabaseHealth ??= { available: true, reason: "", probing: false };
  return globalForHealth.hangarDatabaseHealth;
}

const PROBE_INTERVAL_MS = 500;
const PROBE_TIMEOUT_MS = 2000;

// SQLSTATE class 08 is "connection exception"; 57P01–57P03 are the server shutting down, crashed or
// still starting; 53300 is "too many connections". The rest are what Node and pg say when the
// socket goes away.
const CONNECTION_ERROR_CODES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
const CONNECTION_ERROR_MESSAGES =
  /Connection terminated|Client has encountered a connection error|connection timeout|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)/i;

/** True when an error means "PostgreSQL can't be reached", as opposed to a failed statement. */
export function isConnectionError(error: unknown): boolean {
  // Drizzle wraps the driver's error ("Failed query: ...") with the original as its cause.
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_ERROR_CODES.has(code) || code.startsWith("08"))) return true;
    if (CONNECTION_ERROR_MESSAGES.test(current.message)) return true;
  }
  return false;
}

export function isDatabaseAvailable(): boolean {
  return state().available;
}

export function databaseUnavailableReason(): string {
  return state().reason;
}

/** The supervisor saw the database go away: answer 503 until it says otherwise. */
export function markDatabaseUnavailable(reason: string): void {
  const current = state();
  current.available = false;
  current.reason = reason;
}

export function markDatabaseAvailable(): void {
  const current = state();
  current.available = true;
  current.reason = "";
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
  });
  // A probe's own connection error is its answer, never an unhandled event.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Something suggested the database is gone (a pool connection died). Check with a fresh
 * connection: if it answers, nothing changes (an idle connection ended, as after
 * pg_terminate_backend); if not, mark it unavailable and keep probing until it answers.
 */
export function checkDatabase(url: string | undefined = env().DATABASE_URL): void {
  const current = state();
  if (!url || current.probing) return;
  current.probing = true;
  void (async () => {
    try {
      while (!(await reachable(url))) {
        if (current.available) markDatabaseUnavailable("PostgreSQL does not answer.");
        await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS).unref());
      }
      markDatabaseAvailable();
    } finally {
      current.probing = false;
    }
  })();
}
