// Local scratch is per machine: each registered process writes its temp files into
// `<data dir>/tmp/<process id>/` (lib/storage/temp.ts), and a folder goes only once that process is
// dead. Loose files there come from processes outside the registry (the CLI, scripts) and go by age.
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { listLiveProcessIds } from "@/db/queries/processes";
import { tempDir } from "@/lib/storage";

const PROCESS_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How old a loose temp file (no owning process) must be before it goes. */
export const LOOSE_TEMP_FILE_MS = 10 * 60 * 1000;

/** Removes dead processes' temp folders and stale loose temp files under `root`; returns how many went. */
export async function sweepScratch({
  root,
  leaseSeconds,
  looseFileMs = LOOSE_TEMP_FILE_MS,
}: {
  root: string;
  leaseSeconds: number;
  looseFileMs?: number;
}): Promise<number> {
  const dir = tempDir(root);
  // Listed before the registry is read: a folder seen here was made by a process that had already
  // registered, so a process starting meanwhile is never taken for dead.
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const live = await listLiveProcessIds({ leaseSeconds });
  let removed = 0;
  for (const entry of entries) {
    const target = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!PROCESS_ID.test(entry.name) || live.has(entry.name)) continue;
      await rm(target, { recursive: true, force: true });
      removed += 1;
    } else if (entry.isFile()) {
      const info = await stat(target).catch(() => null);
      if (!info || Date.now() - info.mtimeMs <= looseFileMs) continue;
      await rm(target, { force: true });
      removed += 1;
    }
  }
  return removed;
}
