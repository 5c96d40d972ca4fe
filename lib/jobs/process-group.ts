// libguestfs tools start qemu and helpers of their own. Each run gets its own process group, so
// stopping it (cancel, a stopping worker, a timeout) and cleaning up after it reach all of them.
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

export interface GroupRun {
  /** The group's id (its leader's pid), known once spawned. */
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code; the whole group is killed when the leader ends. */
  exit: Promise<number | null>;
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals) {
  try {
    if (pid) process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Starts `command` as the leader of a new process group: abort (or the timeout) sends SIGTERM, then SIGKILL. */
export function runInProcessGroup(command: string, args: string[], { signal, timeoutMs, env }: { signal?: AbortSignal; timeoutMs?: number; env?: Record<string, string> }): GroupRun {
  if (signal?.aborted) throw signal.reason;
  const child = spawn(/*turbopackIgnore: true*/ command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C", ...env } });
  const stop = () => {
    killGroup(child.pid, "SIGTERM");
    setTimeout(() => killGroup(child.pid, "SIGKILL"), 3000).unref();
  };
  signal?.addEventListener("abort", stop, { once: true });
  const timer = timeoutMs ? setTimeout(stop, timeoutMs) : undefined;
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  }).finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
    killGroup(child.pid, "SIGKILL"); // anything the run left behind (qemu) goes with it
  });
  return { pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, exit };
}
