// The content inspection job, run by a worker for one blob: claim its content_scans row, resolve
// the blob in the store (a linked clone's overlay is read through its backing chain, formats always
// explicit), run lib/content/guestfs/inspect.py (ONE libguestfs appliance launch) in its own process
// group, check what it printed, and store the facts and packages in one transaction. Cancel (seen
// at the heartbeat), the time limit and a stopping worker kill the whole group; the work directory
// (libguestfs's temporary files) is removed in every outcome; a failure keeps a readable reason.
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
import { qemuFormatOf, qemuImgInfo } from "@/lib/images/qemu-img";
import { libguestfsEnv } from "@/lib/jobs/acceleration";
import { JobStopped, jobStopped } from "@/lib/jobs/job-run";
import { runInProcessGroup } from "@/lib/jobs/process-group";
import { getBlobStore } from "@/lib/storage";
import type { ContentFacts, ContentPackage } from "./types";
import { contentScanWorkDir } from "./work-dir";

const HEARTBEAT_MS = 1000;
/** The system Python, which has libguestfs's bindings (python3-guestfs); not whatever python3 is first on PATH. */
const PYTHON = "/usr/bin/python3";
const script = () => path.join(path.dirname(fileURLToPath(import.meta.url)), "guestfs", "inspect.py");
/** More than any honest inspection prints (the script caps every list); a bigger output is refused. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The package manager's version ordering a package's versions follow. */
export function packageSchemeOf(packageFormat: string | null): PackageScheme {
  if (packageFormat === "deb") return "deb";
  if (packageFormat === "rpm") return "rpm";
  if (packageFormat === "apk") return "apk";
  return "other";
}

// PLACEHOLDER, to be replaced by `sortKey` from lib/content/package-versions.ts (another helper's
// branch) when it is merged: the real key encodes (epoch, version, release) so that byte order is
// the package manager's own ordering. This one only keeps rows insertable; it orders nothing.
export function sortKeyPlaceholder(
  scheme: PackageScheme,
  { epoch, upstreamVersion, release }: { epoch: number; upstreamVersion: string; release: string },
): Buffer {
  void scheme;
  return Buffer.from(`${epoch}:${upstreamVersion}-${release}`);
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

class Cancelled extends Error {}

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
    return { ...parts, scheme, sortKey: sortKeyPlaceholder(scheme, parts) };
  });
  const { ok, launchMs, packages: omitted, ...facts } = output;
  void ok;
  void launchMs;
  void omitted;
  return { facts, packages };
}

/**
 * The disk to hand libguestfs and its format. A linked clone's overlay must name exactly its base's
 * blob and record the base's format, so that qemu opens the chain without probing any format.
 */
async function resolveDisk(sha256: string): Promise<{ disk: string; format: string }> {
  const found = await findContentScanDisk(sha256);
  if (!found) throw new ScanFailed("No ready version holds these bytes any more; there is nothing to inspect.");
  const store = getBlobStore();
  const disk = await store.localPath(sha256).catch(() => {
    throw new ScanFailed("The image's file is missing from the blob store; it can't be inspected.");
  });
  const format = qemuFormatOf(found.format);
  if (format !== "qcow2" && !found.backing) return { disk, format };
  const info = await qemuImgInfo({ path: disk, format });
  const named = info["backing-filename"] ?? info["full-backing-filename"] ?? null;
  if (!found.backing) {
    if (named) throw new ScanFailed("The image names a backing file but is not a linked clone; it is not read.");
    return { disk, format };
  }
  const base = await store.localPath(found.backing.sha256).catch(() => {
    throw new ScanFailed("This linked clone's base file is missing from the blob store; it can't be inspected.");
  });
  if (format !== "qcow2" || named !== path.resolve(base))
    throw new ScanFailed("This linked clone's overlay does not name its base version's file; it is not read.");
  if (info["backing-filename-format"] !== qemuFormatOf(found.backing.format))
    throw new ScanFailed(
      `This linked clone's overlay does not record its base's format (${found.backing.format}); Hangar reads backing chains only with explicit formats.`,
    );
  return { disk, format };
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
  const run = runInProcessGroup(PYTHON, [script(), disk, format], {
    signal,
    // libguestfs's temporary files (its own read-only overlay of the disk) go in the work dir;
    // the appliance cache stays where it is, so it is built once per machine.
    env: { ...(await libguestfsEnv()), LIBGUESTFS_TMPDIR: workDir, PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (run.pid) await setContentScanProcessGroup(sha256, run.pid);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  run.stdout.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_OUTPUT_BYTES) tooBig = true;
    else chunks.push(chunk);
  });
  let stderr = "";
  run.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-8000)));
  const code = await run.exit;
  if (signal.aborted) throw signal.reason;
  if (tooBig) throw new ScanFailed("The inspection printed more than Hangar accepts; nothing was kept.");
  if (code !== 0) {
    const last = stderr.trim().split("\n").filter(Boolean).slice(-3).join(" ");
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
  const controller = new AbortController();
  let stopReason: Cancelled | JobStopped | null = null;
  const stop = (reason: Cancelled | JobStopped) => {
    stopReason ??= reason;
    controller.abort(reason);
  };
  const onJobStop = () =>
    stop(
      jobStopped(signal) ??
        new JobStopped(
          "shutdown",
          "The worker reading this image was stopped before it finished; nothing was kept. Inspect it again.",
        ),
    );
  signal?.addEventListener("abort", onJobStop, { once: true });
  if (signal?.aborted) onJobStop();
  // Heartbeat: tells other workers this scan is alive, and is where a cancel request is seen.
  const heartbeat = setInterval(() => {
    void heartbeatContentScan(sha256)
      .then((alive) => {
        if (!alive) stop(new Cancelled());
      })
      .catch(() => {});
  }, HEARTBEAT_MS);
  try {
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const { disk, format } = await resolveDisk(sha256);
    if (controller.signal.aborted) throw stopReason!;
    const output = await runInspectScript({ disk, format, workDir, sha256, signal: controller.signal });
    if (!output.ok) throw new ScanFailed(output.reason);
    const { facts, packages } = factsFromOutput(output);
    if (controller.signal.aborted) throw stopReason!;
    const stored = await completeContentScan({ sha256, facts, packages, durationMs: Date.now() - started });
    if (!stored) throw new Cancelled();
    return { status: "succeeded", launchMs: output.launchMs };
  } catch (error) {
    const outcome = error instanceof Cancelled || error instanceof JobStopped ? error : (stopReason ?? error);
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
    clearInterval(heartbeat);
    signal?.removeEventListener("abort", onJobStop);
    await rm(workDir, { recursive: true, force: true });
  }
}
