import { sql } from "drizzle-orm";
import { db, pool } from "../client";
import { checkDatabase, isConnectionError } from "../health";
import journal from "../migrations/meta/_journal.json";

/** Whether the database answers a trivial query now; a connection failure also starts the probe. */
export async function pingDatabase(): Promise<boolean> {
  try {
    await pool().query("select 1");
    return true;
  } catch (error) {
    if (isConnectionError(error)) checkDatabase();
    return false;
  }
}

/**
 * Migrations in db/migrations that this database has not applied. Drizzle's migrator records each
 * applied migration with its journal timestamp and applies those newer than the last one recorded.
 */
export async function listPendingMigrations(): Promise<string[]> {
  const result = await db().execute<{ latest: string | null }>(
    sql`select max(created_at)::text as latest from drizzle.__drizzle_migrations`,
  );
  const latest = Number(result.rows[0]?.latest ?? 0);
  return journal.entries.filter((entry) => entry.when > latest).map((entry) => entry.tag);
}
