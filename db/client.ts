import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import { env } from "../lib/env";
import { checkDatabase } from "./health";
import * as schema from "./schema";

export type Database = NodePgDatabase<typeof schema>;

// One pool per process, kept on globalThis so Next's dev reloads don't open a new pool each time.
const globalForDb = globalThis as unknown as { hangarPool?: pg.Pool; hangarDb?: Database };

export function databaseUrl(): string {
  const url = env().DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set. Start Hangar with `npm start`, which starts the embedded PostgreSQL and sets it.",
    );
  }
  return url;
}

// PostgreSQL ends connections on a restart, a failover, pg_terminate_backend or a network blip. The
// pool then emits 'error' (an idle client) or the client does (one checked out between queries);
// with no listener Node ends the whole process. The pool has already dropped an idle client, and a
// checked-out one is dropped when it is released (it is no longer queryable); the next query opens
// a fresh connection. So: log, check whether the database itself is gone, keep serving.
function onConnectionError(error: Error): void {
  console.error(`[hangar] database connection lost: ${error.message}`);
  checkDatabase();
}

export function pool(): pg.Pool {
  if (!globalForDb.hangarPool) {
    // A connection attempt that gets no answer (a server gone behind a firewall) fails after 10 s
    // instead of holding its request forever.
    const created = new pg.Pool({
      connectionString: databaseUrl(),
      max: env().HANGAR_DB_POOL_MAX,
      connectionTimeoutMillis: 10_000,
    });
    created.on("connect", (client) => client.on("error", onConnectionError));
    // The client's listener above has logged it; the pool re-emits an idle client's error.
    created.on("error", () => {});
    globalForDb.hangarPool = created;
  }
  return globalForDb.hangarPool;
}

/** This process's connections to PostgreSQL, for the metrics; null before the first query. */
export function poolUsage(): { total: number; idle: number; waiting: number; max: number } | null {
  const current = globalForDb.hangarPool;
  if (!current) return null;
  return {
    total: current.totalCount,
    idle: current.idleCount,
    waiting: current.waitingCount,
    max: current.options.max ?? 10,
  };
}

export function db(): Database {
  globalForDb.hangarDb ??= drizzle(pool(), { schema });
  return globalForDb.hangarDb;
}

export async function closeDb(): Promise<void> {
  const current = globalForDb.hangarPool;
  globalForDb.hangarPool = undefined;
  globalForDb.hangarDb = undefined;
  await current?.end();
}
