// What the build and clone benchmarks stand on: a private folder, an embedded PostgreSQL with the
// schema, an admin who owns a "bench" project, and a close() that takes all of it down again.
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { closeDb, db } from "../db/client";
import { startEmbeddedPostgres } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { getViewerById, type Viewer } from "../db/queries/users";
import { projectMembers, projects } from "../db/schema";
import { ensureAdmin } from "../db/seed";
import { closeQueue } from "../lib/jobs/queue";

export interface BenchWorld {
  work: string;
  viewer: Viewer;
  projectId: string;
  /** Stops the queue client, the database and removes the folder; stop workers first. */
  close(): Promise<void>;
}

export async function openBenchWorld(name: string, { quotaBytes }: { quotaBytes?: number } = {}): Promise<BenchWorld> {
  const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), `hangar-bench-${name}-`));
  await chmod(work, 0o755); // the embedded PostgreSQL runs as another user and must reach its folder
  process.env.HANGAR_DATA_DIR = path.join(work, "data");
  await mkdir(path.join(work, "data"), { recursive: true });
  const database = await startEmbeddedPostgres({ dataDir: path.join(work, "pg") });
  const close = async () => {
    await closeQueue();
    await closeDb();
    await database.stop();
    await rm(work, { recursive: true, force: true });
  };
  try {
    process.env.DATABASE_URL = database.url;
    await applyMigrations(database.url);
    const adminId = await ensureAdmin({
      email: "bench@hangar.local",
      password: `bench-${Math.random().toString(36).slice(2)}-password`,
      log: () => {},
    });
    const [project] = await db()
      .insert(projects)
      .values({ slug: "bench", name: "Bench", ...(quotaBytes ? { quotaBytes } : {}) })
      .returning({ id: projects.id });
    await db().insert(projectMembers).values({ projectId: project!.id, userId: adminId, role: "owner" });
    return { work, viewer: (await getViewerById({ id: adminId }))!, projectId: project!.id, close };
  } catch (error) {
    await close();
    throw error;
  }
}
