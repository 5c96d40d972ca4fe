import { readdirSync, readFileSync } from "node:fs";

/** Live (not zombie) processes of a process group, read from /proc: "pid command" each. */
export function liveProcessesInGroup(group: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== group || fields[0] === "Z" || fields[0] === "X") continue;
      // An empty command line means the kernel has already released the process's memory: it was
      // killed and is exiting, a moment before it turns zombie. (Kernel threads are never in our groups.)
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      if (command) found.push(`${entry} ${command}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
