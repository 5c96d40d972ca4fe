// The content inspection job, run by a worker for one blob: claim its content_scans row, resolve
// the blob in the store (a linked clone's overlay is read through its backing chain, formats always
// explicit), run lib/content/guestfs/inspect.py (ONE libguestfs appliance launch) in its own process
// group, check what it printed, and store the facts and packages in one transaction. Cancel (seen
// at the heartbeat), the time limit and a stopping worker kill the whole group; the work directory
// (libguestfs's temporary files) is removed in every outcome; a failure keeps a readable reason.
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import { z } from "zod";
import {
  claimContentScan,
  completeContentScan,
  failContentScan,
  findContentScanDisk,
  heartbeatContentScan,
  setContentScanProcessGroup,
  type StoredPackage,
} from "@/db/queries/content-scans";
import type { PackageScheme } from "@/db/enums";
import { BackingChainError, stageDisk } from "@/lib/images/backing";
import { qemuFormatOf } from "@/lib/images/qemu-img";
import { JobStopped } from "@/lib/jobs/job-run";
import { Cancelled, superviseRun } from "@/lib/jobs/supervised-run";
import { BlobNotFoundError } from "@/lib/storage";
import { guestfsScript, runGuestfsScript } from "./guestfs-run";
import { storedSortKey } from "./package-versions";
import type { ContentFacts, ContentPackage } from "./types";
import { contentScanWorkDir } from "./work-dir";

/** More than any honest inspection prints (the script caps every list); a bigger output is refused. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The package manager's version ordering a package's versions follow. */
export function packageSchemeOf(packageFormat: string | null): PackageScheme {
  if (packageFormat === "deb") return "deb";
  if (packageFormat === "rpm") return "rpm";
  if (packageFormat === "apk") return "apk";
  return "other";
}

/** As the package manager prints it: [epoch:]version[-release]. */
export function fullVersion({ epoch, version, release }: { epoch: number; version: string; release: string }): string {
  return `${epoch > 0 ? `${epoch}:` : ""}${version}${release ? `-${release}` : ""}`;
}

const guestString = z.string().max(1024);
const nullableString = guestString.nullable().default(null);
const filesystemSchema = z.object({
  device: guestString,
  type: guestString,
  label: guestString,
  uuid: guestString,
  mountpoint: guestString,
  size: z.number().int().nonnegative().nullable(),
  used: z.number().int().nonnegative().nullable(),
  free: z.number().int().nonnegative().nullable(),
});
const packageSchema = z.object({
  name: guestString.min(1),
  epoch: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 31 - 1),
  version: guestString,
  release: guestString,
  arch: guestString,
});
const outputSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(false), reason: z.string(), launchMs: z.number().optional() }),
  z.object({
    ok: z.literal(true),
    launchMs: z.number(),
    osFound: z.boolean(),
    noOsReason: nullableString,
    osType: nullableString,
    distro: nullableString,
    productName: nullableString,
    osVersion: nullableString,
    arch: nullableString,
    hostname: nullableString,
    packageFormat: nullableString,
    packageManager: nullableString,
    initSystem: nullableString,
    kernels: z.array(guestString).max(1000).default([]),
    filesystems: z.array(filesystemSchema).max(1000).default([]),
    loginUsers: z.array(guestString).max(10_000).default([]),
    enabledServices: z.array(guestString).max(10_000).default([]),
    packages: z.array(packageSchema).max(100_000).default([]),
  }),
]);
export type InspectOutput = z.infer<typeof outputSchema>;

/** A failure whose message is already a reason a person can read. */
class ScanFailed extends Error {}

/** Turns what the script printed into the facts and package rows to store. */
export function factsFromOutput(output: Extract<InspectOutput, { ok: true }>): {
  facts: Omit<ContentFacts, "packages">;
  packages: StoredPackage[];
} {
  const scheme = packageSchemeOf(output.packageFormat);
  const packages = output.packages.map((item): StoredPackage => {
    const parts: ContentPackage = {
      name: item.name,
      version: fullVersion(item),
      epoch: item.epoch,
      upstreamVersion: item.version,
      release: item.release,
      arch: item.arch,
    };
    return { ...parts, scheme, sortKey: storedSortKey(scheme, parts) };
  });
  const { ok, launchMs, packages: omitted, ...facts } = output;
  void ok;
  void launchMs;
  void omitted;
  return { facts, packages };
}

/**
 * The disk to hand libguestfs (staged in the work folder) and its format. A linked clone's overlay
 * must name exactly its base version's blob and record the base's format, so that qemu opens the
 * chain without probing any format.
 */
async function resolveDisk(sha256: string, workDir: string): Promise<{ disk: string; format: string }> {
  const found = await findContentScanDisk(sha256);
  if (!found) throw new ScanFailed("No ready version holds these bytes any more; there is nothing to inspect.");
  const staged = await stageDisk({ disk: { sha256, format: found.format }, dir: workDir }).catch((error: unknown) => {
    if (error instanceof BlobNotFoundError)
      throw new ScanFailed(
        error.sha256 === sha256
          ? "The image's file is missing from the blob store; it can't be inspected."
          : "This linked clone's base file is missing from the blob store; it can't be inspected.",
      );
    if (error instanceof BackingChainError) throw new ScanFailed(error.message);
    throw error;
  });
  const named = staged.bases[0];
  if (!found.backing) {
    if (named) throw new ScanFailed("The image names a backing file but is not a linked clone; it is not read.");
    return { disk: staged.path, format: staged.format };
  }
  if (named?.sha256 !== found.backing.sha256)
    throw new ScanFailed("This linked clone's overlay does not name its base version's file; it is not read.");
  if (named.qemuFormat !== qemuFormatOf(found.backing.format))
    throw new ScanFailed(
      `This linked clone's overlay does not record its base's format (${found.backing.format}); Hangar reads backing chains only with explicit formats.`,
    );
  return { disk: staged.path, format: staged.format };
}

/** Runs the inspection script in its own process group; its JSON, checked. */
async function runInspectScript({
  disk,
  format,
  workDir,
  sha256,
  signal,
}: {
  disk: string;
  format: string;
  workDir: string;
  sha256: string;
  signal: AbortSignal;
}): Promise<InspectOutput> {
  const run = await runGuestfsScript(guestfsScript("inspect.py"), [disk, format], { workDir, signal });
  if (run.pid) await setContentScanProcessGroup(sha256, run.pid);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  run.stdout.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_OUTPUT_BYTES) tooBig = true;
    else chunks.push(chunk);
  });
  const code = await run.exit;
  if (signal.aborted) throw signal.reason;
  if (tooBig) throw new ScanFailed("The inspection printed more than Hangar accepts; nothing was kept.");
  if (code !== 0) {
    const last = run.stderrTail().trim().split("\n").filter(Boolean).slice(-3).join(" ");
    throw new ScanFailed(`The inspection failed (exit code ${code}): ${last || "no output"}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ScanFailed("The inspection printed something that is not JSON; nothing was kept.");
  }
  const checked = outputSchema.safeParse(parsed);
  if (!checked.success)
    throw new ScanFailed(
      `The inspection's output did not have the expected shape (${checked.error.issues[0]?.path.join(".") ?? "?"}); nothing was kept.`,
    );
  return checked.data;
}

export type ContentScanOutcome =
  | { status: "succeeded"; launchMs: number }
  | { status: "failed" | "cancelled"; reason: string }
  | { status: "not-runnable" };

/** Runs one queued scan to its end. Never throws for the scan's own failures: they are stored with their reason. */
export async function runContentScan(
  { sha256 }: { sha256: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<ContentScanOutcome> {
  const started = Date.now();
  if (!(await claimContentScan(sha256, { workerHost: os.hostname(), workerPid: process.pid })))
    return { status: "not-runnable" };
  const workDir = contentScanWorkDir(sha256);
  const run = superviseRun({
    signal,
    heartbeat: () => heartbeatContentScan(sha256),
    shutdownMessage:
      "The worker reading this image was stopped before it finished; nothing was kept. Inspect it again.",
  });
  try {
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const { disk, format } = await resolveDisk(sha256, workDir);
    run.throwIfStopped();
    const output = await runInspectScript({ disk, format, workDir, sha256, signal: run.signal });
    if (!output.ok) throw new ScanFailed(output.reason);
    const { facts, packages } = factsFromOutput(output);
    run.throwIfStopped();
    const stored = await completeContentScan({ sha256, facts, packages, durationMs: Date.now() - started });
    if (!stored) throw new Cancelled();
    return { status: "succeeded", launchMs: output.launchMs };
  } catch (error) {
    const outcome = run.outcomeOf(error) ?? error;
    if (outcome instanceof Cancelled) {
      const reason = "Cancelled while running; nothing was kept.";
      await failContentScan({ sha256, status: "cancelled", reason });
      return { status: "cancelled", reason };
    }
    const reason =
      outcome instanceof JobStopped || outcome instanceof ScanFailed
        ? outcome.message
        : `The inspection failed: ${(outcome as Error).message.split("\n")[0]}`;
    if (!(outcome instanceof JobStopped || outcome instanceof ScanFailed))
      console.error(`content scan ${sha256} failed`, error);
    await failContentScan({ sha256, status: "failed", reason });
    return { status: "failed", reason };
  } finally {
    run.end();
    await rm(workDir, { recursive: true, force: true });
  }
}
