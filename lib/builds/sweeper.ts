// A worker that dies (kill -9, a lost machine) stops sending heartbeats. Any worker notices: the
// build ends failed with the reason, its leftover processes on this machine are killed and its
// work directory removed. The finishing transaction only accepts the attempt that claimed the
// build while it is still running, so a build can never produce two outputs. Content
// scans, file diffs and boot tests (lib/content) are swept the same way.
import os from "node:os";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { sweepStaleBootTestRuns } from "@/db/queries/boot-tests";
import {
  listActiveBuildJobIds,
  listRunningBuildIds,
  STALE_BUILD_REASON,
  sweepStaleBuildRuns,
} from "@/db/queries/build-runs";
import { listRunningCloneIds, sweepStaleClones } from "@/db/queries/clones";
import { sweepStaleContentScans } from "@/db/queries/content-scans";
import { sweepStaleFileDiffs } from "@/db/queries/version-diffs";
import { env } from "@/lib/env";
import { cloneWorkDir } from "@/lib/clones/engine";
import { bootTestWorkDir, contentScanWorkDir, diffWorkDir } from "@/lib/content/work-dir";
import { buildWorkDir } from "./engine";

/** What the sweep needs of the queue: ending a job as failed (a pg-boss client). */
export interface JobFailer {
  fail(name: string, id: string, data: object): Promise<void>;
}

export async function sweepStaleBuilds({
  staleSeconds = env().HANGAR_BUILD_STALE_SECONDS,
  log = console.log,
  queue,
}: { staleSeconds?: number; log?: (line: string) => void; queue?: JobFailer } = {}): Promise<number> {
  const builds = await sweepStaleBuildRuns({ staleSeconds });
  // Never retried (a build is not), the dead worker's job ends failed now rather than at its expiry.
  if (queue)
    for (const jobId of await listActiveBuildJobIds({ buildIds: builds.map((row) => row.id) }))
      await queue.fail("image.build", jobId, { message: STALE_BUILD_REASON });
  for (const row of builds) {
    log(`Build ${row.id} lost its worker; marked failed.`);
    if (row.workerHost === os.hostname() && row.processGroup && (await groupIsOurs(row.processGroup))) {
      try {
        process.kill(-row.processGroup, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (row.workerHost === os.hostname()) await rm(buildWorkDir(row.id), { recursive: true, force: true });
  }
  for (const id of await sweepStaleClones({ staleSeconds: Math.max(staleSeconds, 30) })) {
    log(`Clone ${id} lost its worker; marked failed.`);
    await rm(cloneWorkDir(id), { recursive: true, force: true });
  }
  for (const row of await sweepStaleContentScans({ staleSeconds: Math.max(staleSeconds, 30) })) {
    log(`Content inspection of ${row.sha256.slice(0, 12)}… lost its worker; marked failed.`);
    await stopLeftovers(row, contentScanWorkDir(row.sha256));
  }
  for (const row of await sweepStaleFileDiffs({ staleSeconds })) {
    log(`File diff ${row.id} lost its worker; marked failed.`);
    await stopLeftovers(row, diffWorkDir(row.id));
  }
  for (const row of await sweepStaleBootTestRuns({ staleSeconds: Math.max(staleSeconds, 30) })) {
    log(`Boot test ${row.id} lost its worker; marked failed.`);
    await stopLeftovers(row, bootTestWorkDir(row.id));
  }
  await removeLeftoverWorkDirs();
  return builds.length;
}

/**
 * Build and clone folders on this machine whose row no longer runs: left by a worker here that
 * died, whose build another machine's sweep ended (it can't reach this disk). Listed before the
 * rows are read, and an engine makes its folder only after claiming its row, so a folder seen
 * here whose row is not running is never one a live job is about to use.
 */
async function removeLeftoverWorkDirs(): Promise<void> {
  const kinds = [
    { dir: path.dirname(buildWorkDir("_")), running: listRunningBuildIds },
    { dir: path.dirname(cloneWorkDir("_")), running: listRunningCloneIds },
  ];
  for (const { dir, running } of kinds) {
    const ids = (await readdir(dir).catch(() => [] as string[])).filter((name) => UUID.test(name));
    if (ids.length === 0) continue;
    const keep = await running({ ids });
    for (const id of ids) if (!keep.has(id)) await rm(path.join(dir, id), { recursive: true, force: true });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A swept job that ran on this machine: its processes are killed and its work directory removed. */
async function stopLeftovers(row: { workerHost: string | null; processGroup: number | null }, workDir: string) {
  if (row.workerHost !== os.hostname()) return;
  if (row.processGroup && (await groupIsOurs(row.processGroup))) {
    try {
      process.kill(-row.processGroup, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(workDir, { recursive: true, force: true });
}

/** A process-group id can be reused; only a group still running libguestfs tools is killed. */
async function groupIsOurs(group: number): Promise<boolean> {
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== group) continue;
      const command = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replace(/\0/g, " ");
      if (/virt-customize|qemu-system|qemu-kvm|supermin|guestfs|passt/.test(command)) return true;
    } catch {
      // the process ended while we looked
    }
  }
  return false;
}
