// Integration tests run against a real PostgreSQL: a throwaway embedded server per test run, unless
// the caller points DATABASE_URL at a server of their own.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../db/embedded";
import { applyMigrations } from "../db/migrate";

export default async function setup() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "hangar-test-"));
  process.env.HANGAR_DATA_DIR = dataDir;
  let stop = async () => {};
  if (!process.env.DATABASE_URL) {
    const database = await startEmbeddedPostgres({ dataDir, log: (line) => console.error(line) });
    process.env.DATABASE_URL = database.url;
    stop = database.stop;
  }
  await applyMigrations(process.env.DATABASE_URL);
  return async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
