// The file-level diff of two versions, run by a worker for one queued version_diffs row: ONE
// libguestfs appliance launch over both images (lib/content/guestfs/diff.py, both drives
// read-only with explicit formats, a linked clone read through its backing chain), in its own
// process group. The script lists what was added, removed or changed and hands back the contents
// of small text files under /etc; the unified line diffs are computed here. Cancel, the time limit
// and a stopping worker kill the whole group; the work directory is removed in every outcome.
import { mkdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { structuredPatch } from "diff";
import {
  claimFileDiff,
  completeFileDiff,
  finishFileDiff,
  heartbeatFileDiff,
  setFileDiffProcessGroup,
} from "@/db/queries/version-diffs";
import { JobStopped } from "@/lib/jobs/job-run";
import { Cancelled, superviseRun } from "@/lib/jobs/supervised-run";
import { BackingChainError, stageDisk } from "@/lib/images/backing";
import { BlobNotFoundError } from "@/lib/storage";
import { guestfsScript, runGuestfsScript } from "./guestfs-run";
import type { FileDiff } from "./types";
import { diffWorkDir } from "./work-dir";

/** Differences stored per diff; past it the list is cut (sorted by path) and says how many were left out. */
export const FILE_DIFF_MAX_ENTRIES = 20_000;
/** A line diff longer than this is cut with a note. */
export const LINE_DIFF_MAX_CHARS = 64 * 1024;
class DiffFailed extends Error {}

interface ScriptEntry {
  path: string;
  change: FileDiff["change"];
  type: string;
  sizeBefore: number | null;
  sizeAfter: number | null;
  details?: string[];
  textBefore?: string;
  textAfter?: string;
}

interface ScriptResult {
  files: ScriptEntry[];
  total: number;
  truncated: boolean;
  notes: string[];
}

/** Bounds on the line-diff computation (hostile files can make it quadratic). */
const LINE_DIFF_LIMITS = { timeout: 2000, maxEditLength: 20_000 };

/**
 * A unified diff of two texts, hunks only (the entry names the file), cut at LINE_DIFF_MAX_CHARS;
 * a note instead when the texts differ too much to compare line by line within the bounds.
 */
export function unifiedLineDiff(before: string, after: string): string {
  const patch = structuredPatch("a", "b", before, after, "", "", { context: 3, ...LINE_DIFF_LIMITS });
  if (!patch) return "… (the files differ too much to be shown line by line)";
  const parts: string[] = [];
  let length = 0;
  for (const hunk of patch.hunks) {
    // Unified diff numbering: an empty side starts at the line before (0 for an added file).
    const oldStart = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart;
    const text = [`@@ -${oldStart},${hunk.oldLines} +${newStart},${hunk.newLines} @@`, ...hunk.lines].join("\n");
    if (length + text.length > LINE_DIFF_MAX_CHARS) {
      parts.push("… (the rest of the line diff is not shown: it is too long)");
      break;
    }
    parts.push(text);
    length += text.length + 1;
  }
  return parts.join("\n");
}

/** What the script printed, as stored entries: differences sorted by path, then notes. */
export function toStoredFiles(result: ScriptResult): FileDiff[] {
  const files: FileDiff[] = result.files.map((entry) => {
    const stored: FileDiff = {
      path: String(entry.path),
      change: entry.change,
      type: String(entry.type),
      sizeBefore: entry.sizeBefore,
      sizeAfter: entry.sizeAfter,
    };
    if (entry.details?.length) stored.details = entry.details.map(String);
    if (typeof entry.textBefore === "string" && typeof entry.textAfter === "string")
      stored.lineDiff = unifiedLineDiff(entry.textBefore, entry.textAfter);
    return stored;
  });
  const note = (text: string, omitted?: number): FileDiff => ({
    path: "",
    change: "changed",
    type: "note",
    sizeBefore: null,
    sizeAfter: null,
    note: text,
    ...(omitted ? { omitted } : {}),
  });
  for (const text of result.notes) files.push(note(String(text)));
  if (result.truncated) {
    const omitted = result.total - result.files.length;
    files.push(
      note(
        `${result.total} differences were found; only the first ${result.files.length} (by path) are kept, ${omitted} are not shown.`,
        omitted,
      ),
    );
  }
  return files;
}

export async function runFileDiff(
  { diffId }: { diffId: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const work = await claimFileDiff(diffId, { workerHost: os.hostname(), workerPid: process.pid });
  if (!work) return;
  const workDir = diffWorkDir(diffId);
  const run = superviseRun({
    signal,
    heartbeat: () => heartbeatFileDiff(diffId),
    shutdownMessage: "The worker comparing these versions was stopped before it finished. Compare them again.",
  });
  try {
    run.throwIfStopped();
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    // Both disks and their bases in one folder: the names are content addresses, so they can share one.
    const staged = (disk: { sha256: string; format: string }) =>
      stageDisk({ disk, dir: workDir }).catch((error: unknown) => {
        if (error instanceof BlobNotFoundError)
          throw new DiffFailed(
            "The stored file of one of the versions is missing from the blob store; nothing could be compared. An admin should check the store.",
          );
        if (error instanceof BackingChainError) throw new DiffFailed(error.message);
        throw error;
      });
    const from = await staged(work.from);
    const to = await staged(work.to);
    const output = path.join(workDir, "result.json");
    const script = await runGuestfsScript(
      guestfsScript("diff.py"),
      [from.path, from.format, to.path, to.format, output, workDir, String(FILE_DIFF_MAX_ENTRIES)],
      { workDir, signal: run.signal },
    );
    if (script.pid) await setFileDiffProcessGroup(diffId, script.pid);
    script.stdout.resume();
    const code = await script.exit;
    run.throwIfStopped();
    if (code !== 0) {
      const stderr = script.stderrTail();
      const said = stderr
        .split("\n")
        .reverse()
        .find((line) => line.startsWith("error: "));
      throw new DiffFailed(
        said
          ? `libguestfs could not compare the images: ${said.slice("error: ".length)}`
          : `The comparison stopped unexpectedly (exit code ${code}). What it printed last: ${stderr.trim().split("\n").slice(-3).join(" / ")}`,
      );
    }
    const result = JSON.parse(await readFile(output, "utf8")) as ScriptResult;
    if (!(await completeFileDiff(diffId, toStoredFiles(result)))) throw run.stopReason ?? new Cancelled();
  } catch (error) {
    const outcome = run.outcomeOf(error);
    if (outcome instanceof Cancelled) {
      await finishFileDiff(diffId, { status: "cancelled", failureReason: "Cancelled while running." });
    } else if (outcome instanceof JobStopped) {
      await finishFileDiff(diffId, { status: "failed", failureReason: outcome.message });
    } else {
      const reason =
        error instanceof DiffFailed
          ? error.message
          : `The comparison failed: ${(error as Error).message.split("\n")[0]}`;
      await finishFileDiff(diffId, { status: "failed", failureReason: reason });
      if (!(error instanceof DiffFailed)) console.error(`file diff ${diffId} failed`, error);
    }
  } finally {
    run.end();
    await rm(workDir, { recursive: true, force: true });
  }
}
