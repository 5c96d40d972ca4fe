import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema";

export type Database = NodePgDatabase<typeof schema>;

// One pool per process, kept on globalThis so Next's dev reloads don't open a new pool each time.
const globalForDb = globalThis as unknown as { hangarPool?: pg.Pool; hangarDb?: Database };

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error("DATABASE_URL is not set. Start Hangar with `npm start`, which starts the embedded PostgreSQL and sets it.");
  }
  return url;
}

export function pool(): pg.Pool {
  globalForDb.hangarPool ??= new pg.Pool({ connectionString: databaseUrl(), max: Number(process.env.HANGAR_DB_POOL_MAX ?? 10) });
  return globalForDb.hangarPool;
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
