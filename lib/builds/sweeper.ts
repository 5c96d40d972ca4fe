// A worker that dies (kill -9, a lost machine) stops sending heartbeats. Any worker notices: the
// build ends failed with the reason, its leftover processes on this machine are killed and its
// work directory removed. The finishing transaction only accepts the attempt that claimed the
// build while it is still running, so a build can never produce two outputs.
import os from "node:os";
import { readdir, readFile, rm } from "node:fs/promises";
import { sql } from "drizzle-orm";
import { db } from "@/db/client";
import { env } from "@/lib/env";
import { sweepStaleClones } from "@/db/queries/clones";
import { cloneWorkDir } from "@/lib/clones/engine";
import { buildWorkDir } from "./engine";

export const STALE_REASON =
  "The worker running this build stopped without finishing it (its process or machine died). Nothing was kept; retry the build.";

export async function sweepStaleBuilds({ staleSeconds = env().HANGAR_BUILD_STALE_SECONDS, log = console.log }: { staleSeconds?: number; log?: (line: string) => void } = {}): Promise<number> {
  const rows = (await db().execute(sql`
    update builds set status = 'failed', failure_reason = ${STALE_REASON}, finished_at = now()
    where status = 'running' and heartbeat_at < now() - make_interval(secs => ${staleSeconds})
    returning id, worker_host, process_group`)) as unknown as { rows: { id: string; worker_host: string | null; process_group: number | null }[] };
  for (const row of rows.rows) {
    log(`Build ${row.id} lost its worker; marked failed.`);
    if (row.worker_host === os.hostname() && row.process_group && (await groupIsOurs(row.process_group))) {
      try {
        process.kill(-row.process_group, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (row.worker_host === os.hostname()) await rm(buildWorkDir(row.id), { recursive: true, force: true });
  }
  for (const id of await sweepStaleClones({ staleSeconds: Math.max(staleSeconds, 30) })) {
    log(`Clone ${id} lost its worker; marked failed.`);
    await rm(cloneWorkDir(id), { recursive: true, force: true });
  }
  return rows.rows.length;
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
