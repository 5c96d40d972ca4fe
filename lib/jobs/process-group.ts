// libguestfs tools start qemu and helpers of their own. Each run gets its own process group, so
// stopping it (cancel, a stopping worker, a time limit) and cleaning up after it reach all of them.
// The group's leader is a small shell that runs the tool and watches Hangar through a pipe only
// Hangar holds: when Hangar dies without stopping the run (SIGKILL, a crash, a test runner that
// kills its server), the pipe closes and the watcher kills the whole group, so nothing is orphaned.
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface GroupRun {
  /** The group's id (its leader's pid), known once spawned. */
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code (128 + the signal's number when the tool was killed); the whole group is killed when the leader ends. */
  exit: Promise<number | null>;
}

/** Runs "$@" with fd 3 closed; a background watcher kills the group (`kill 0`) once fd 3 reads end of file. */
const WATCHED_RUN = `"$@" 3<&- &
tool=$!
(read -r _ <&3; kill -9 0) &
watcher=$!
wait "$tool"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"`;

function killGroup(pid: number | undefined, sig: NodeJS.Signals) {
  try {
    if (pid) process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Starts `command` as the leader of a new process group: abort (or the timeout) sends SIGTERM, then
 * SIGKILL. `input`, if any, is what the tool reads from file descriptor 4 (a background job's standard
 * input is /dev/null; fd 4 is a socket, so `<&4`, not opening /dev/fd/4); if it fails, the run is
 * stopped and `exit` rejects with its error.
 */
export function runInProcessGroup(
  command: string,
  args: string[],
  {
    signal,
    timeoutMs,
    env,
    input,
  }: { signal?: AbortSignal; timeoutMs?: number; env?: Record<string, string>; input?: Readable },
): GroupRun {
  if (signal?.aborted) throw signal.reason;
  const child = spawn("/bin/sh", ["-c", WATCHED_RUN, "hangar-run", command, ...args], {
    detached: true,
    stdio: input ? ["ignore", "pipe", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe", "pipe"],
    env: { ...process.env, LC_ALL: "C", ...env },
  });
  // Nothing is ever written to the watcher's pipe; reading it lets Node see it close with the run.
  (child.stdio[3] as Readable).resume();
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    killGroup(child.pid, "SIGTERM");
    // Not unref'd: a stopping worker waits for its runs, and this is what ends a stubborn one.
    killTimer ??= setTimeout(() => killGroup(child.pid, "SIGKILL"), 3000);
  };
  signal?.addEventListener("abort", stop, { once: true });
  const timer = timeoutMs ? setTimeout(stop, timeoutMs) : undefined;
  let inputError: unknown;
  if (input) {
    input.once("error", (error) => {
      inputError = error;
      stop();
    });
    // The tool stopping before the end of its input is its own exit code's to tell.
    pipeline(input, child.stdio[4] as Writable).catch(() => {});
  }
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => (inputError === undefined ? resolve(code) : reject(inputError)));
  }).finally(() => {
    clearTimeout(timer);
    clearTimeout(killTimer);
    signal?.removeEventListener("abort", stop);
    killGroup(child.pid, "SIGKILL"); // anything the run left behind (qemu) goes with it
  });
  return { pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, exit };
}
