// Figures for the operator's metrics: a few cheap aggregate reads, taken at scrape time.
import { sql } from "drizzle-orm";
import { db } from "../client";

/** This process's connection pool: total, idle, waiting clients and its size; null before the first query. */
export { poolUsage as getPoolUsage } from "../client";

export interface OperationalFigures {
  buildsRunning: number;
  blobBytes: number;
  blobCount: number;
  /** Jobs waiting (created or retrying) and running, by pg-boss queue name. */
  queue: { kind: string; waiting: number; active: number }[];
}

export async function getOperationalFigures(): Promise<OperationalFigures> {
  const totals = await db().execute<{ builds_running: string; blob_bytes: string; blob_count: string }>(sql`
    select
      (select count(*) from builds where status = 'running')::text as builds_running,
      (select coalesce(sum(size), 0) from blobs)::text as blob_bytes,
      (select count(*) from blobs)::text as blob_count`);
  // pg-boss keeps finished jobs in the same table for a while; only unfinished states are counted.
  const queue = await db().execute<{ name: string; waiting: string; active: string }>(sql`
    select name,
      count(*) filter (where state in ('created', 'retry'))::text as waiting,
      count(*) filter (where state = 'active')::text as active
    from pgboss.job where state in ('created', 'retry', 'active') group by name`);
  const row = totals.rows[0];
  return {
    buildsRunning: Number(row?.builds_running ?? 0),
    blobBytes: Number(row?.blob_bytes ?? 0),
    blobCount: Number(row?.blob_count ?? 0),
    queue: queue.rows.map((entry) => ({
      kind: entry.name,
      waiting: Number(entry.waiting),
      active: Number(entry.active),
    })),
  };
}
