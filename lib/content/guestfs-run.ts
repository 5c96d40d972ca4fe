// How the content jobs run their libguestfs scripts (lib/content/guestfs/*.py): the system Python,
// which has libguestfs's bindings (python3-guestfs), not whatever python3 is first on PATH; in its
// own process group (lib/jobs/process-group.ts), so cancel, the time limit and a stopping worker
// kill the appliance too; with libguestfs's temporary files (its overlays and sockets) in the job's
// work directory, removed with it even after a kill. The appliance cache stays where it is, so it
// is built once per machine.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { libguestfsEnv } from "@/lib/jobs/acceleration";
import { runInProcessGroup, type GroupRun } from "@/lib/jobs/process-group";

const PYTHON = "/usr/bin/python3";
/** How much of what a script wrote to stderr is kept for its failure reason. */
const STDERR_TAIL_CHARS = 8000;

/** The path of one of the scripts in lib/content/guestfs. */
export function guestfsScript(name: "inspect.py" | "diff.py"): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "guestfs", name);
}

export interface GuestfsRun extends GroupRun {
  /** The last STDERR_TAIL_CHARS of what the script wrote to stderr so far. */
  stderrTail(): string;
}

/** Starts `script args…` in its own process group; stdout is the caller's to read (or resume). */
export async function runGuestfsScript(
  script: string,
  args: string[],
  { workDir, signal }: { workDir: string; signal: AbortSignal },
): Promise<GuestfsRun> {
  const run = runInProcessGroup(PYTHON, [script, ...args], {
    signal,
    env: { ...(await libguestfsEnv()), LIBGUESTFS_TMPDIR: workDir, PYTHONDONTWRITEBYTECODE: "1" },
  });
  let stderr = "";
  run.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL_CHARS)));
  return { ...run, stderrTail: () => stderr };
}
