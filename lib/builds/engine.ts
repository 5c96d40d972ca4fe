// The build engine, run by a worker for one queued build: a qcow2 overlay on the base blob in a
// private work directory, ONE virt-customize run with every step in order (one appliance launch),
// qemu-img convert to the output format (which flattens the overlay), one pass to hash and
// inspect, then the blob and the new version land in one transaction, or nothing does. The work
// directory is removed in every outcome. Cancel, the time limit and a stopping worker kill the
// whole process group.
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  appendBuildLogs,
  claimBuild,
  completeBuild,
  heartbeatBuild,
  saveBuildSteps,
  setBuildProcessGroup,
} from "@/db/queries/build-runs";
import { finishBuild, loadBuildForRun } from "@/db/queries/builds";
import type { DiskFormat } from "@/db/schema";
import { env } from "@/lib/env";
import { queueBuildEvent, queueVersionEvent } from "@/lib/webhooks/events";
import { createOverlay } from "@/lib/images/backing";
import { qemuImgConvert, qemuImgResize } from "@/lib/images/qemu-img";
import { checkProducedFile } from "@/lib/imports/ingest";
import { queueBlobChecksums } from "@/lib/storage/checksums";
import { sendContentScan } from "@/lib/content/requests";
import { getBlobStore, linkBlob } from "@/lib/storage";
import { accelerationLabels, formatDuration } from "@/lib/format";
import { queueBootTestAfterBuild } from "@/lib/content/boot-queue";
import { acceleration, libguestfsEnv } from "@/lib/jobs/acceleration";
import { isBuildable } from "@/lib/governance/release";
import { JobStopped, jobStopped } from "@/lib/jobs/job-run";
import { runInProcessGroup } from "@/lib/jobs/process-group";
import { stepsNeedNetwork } from "@/lib/recipes/steps";
import { beginBlobWrite, type BlobWrite } from "@/lib/processes/blob-writes";
import { openBuildSandbox, type BuildSandbox } from "./network-sandbox";
import { StepTracker } from "./progress";
import { redactLogLine, virtCustomizeArgs } from "./virt-customize";

export const VIRT_CUSTOMIZE = env().HANGAR_VIRT_CUSTOMIZE;
const HEARTBEAT_MS = 1000;
const LOG_FLUSH_MS = 250;
const MAX_LOG_LINE = 4000;

/** Where a build's private files live; removed when the build ends, however it ends. */
export function buildWorkDir(buildId: string): string {
  return path.join(env().dataDir, "builds", buildId);
}

class Cancelled extends Error {}

class StepFailed extends Error {}

/** Log lines go to PostgreSQL as they arrive, a batch at a time. */
class LogWriter {
  private pending: { stream: string; line: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  readonly tail: string[] = [];

  constructor(private readonly buildId: string) {}

  write(stream: string, raw: string) {
    const line = redactLogLine(raw).slice(0, MAX_LOG_LINE);
    this.pending.push({ stream, line });
    this.tail.push(line);
    if (this.tail.length > 30) this.tail.shift();
    if (this.pending.length >= 200) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.writing;
    this.writing = this.writing.then(() =>
      appendBuildLogs(this.buildId, batch).catch((error) => console.error("build log write failed", error)),
    );
    return this.writing;
  }
}

export interface BuildRunOptions {
  /** Aborts with a JobStopped when the build's time limit passes or the worker stops. */
  signal?: AbortSignal;
  /** The wall-clock limit the worker enforces, recorded on the build for the build page. */
  timeLimitMs?: number | null;
}

export async function runBuild(
  { buildId }: { buildId: string },
  { signal, timeLimitMs = null }: BuildRunOptions = {},
): Promise<void> {
  const accel = await acceleration();
  const claimed = await claimBuild(buildId, {
    acceleration: accel.mode,
    accelerationReason: accel.reason,
    timeLimitSeconds: timeLimitMs === null ? null : Math.round(timeLimitMs / 1000),
    workerHost: os.hostname(),
    workerPid: process.pid,
  });
  if (!claimed) return;
  await queueBuildEvent("build.started", { buildId });
  const build = await loadBuildForRun(buildId);
  if (!build) return;
  const document = build.document;
  const log = new LogWriter(buildId);
  const tracker = new StepTracker(document.steps);
  const workDir = buildWorkDir(buildId);
  const controller = new AbortController();
  let stopReason: Cancelled | JobStopped | null = null;
  const stop = (reason: Cancelled | JobStopped) => {
    stopReason ??= reason;
    controller.abort(reason);
  };
  // The worker's signal: the time limit passed or Hangar is stopping.
  const onJobStop = () =>
    stop(
      jobStopped(signal) ??
        new JobStopped(
          "shutdown",
          "The worker running this build was stopped before it finished; nothing was kept. Retry the build.",
        ),
    );
  signal?.addEventListener("abort", onJobStop, { once: true });
  if (signal?.aborted) onJobStop();

  let stepsDirty = false;
  const saveSteps = async () => {
    if (!stepsDirty) return;
    stepsDirty = false;
    await saveBuildSteps(buildId, tracker.progress);
  };
  // Heartbeat: tells other workers this build is alive, and is where a cancel request is seen.
  const heartbeat = setInterval(() => {
    void (async () => {
      if (!(await heartbeatBuild(buildId))) stop(new Cancelled());
      await saveSteps();
    })().catch(() => {});
  }, HEARTBEAT_MS);

  const phase = (text: string) => log.write("hangar", `[hangar] ${text}`);
  const store = getBlobStore();
  // Set while the output's bytes are in the blob store but no version holds them yet.
  let stored: BlobWrite | null = null;
  phase(`Guests run with ${accelerationLabels[accel.mode]}: ${accel.reason}`);
  if (timeLimitMs !== null) phase(`Time limit: ${formatDuration(timeLimitMs)} (HANGAR_BUILD_TIMEOUT)`);
  try {
    if (!build.baseSha256 || !build.baseFormat)
      throw new StepFailed("The base version has no stored file any more; pick another base.");
    if (!isBuildable(build.baseReleaseStatus)) {
      throw new StepFailed(
        `The base version is ${build.baseReleaseStatus} now; nobody may build on it. Pick another base.`,
      );
    }
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const overlay = path.join(workDir, "overlay.qcow2");
    phase(`Creating a qcow2 overlay on the base (${build.baseFormat}, ${build.baseSha256.slice(0, 12)}…)`);
    await createOverlay({ base: { sha256: build.baseSha256, format: build.baseFormat }, file: overlay });
    if (build.growToBytes && build.growToBytes > (build.baseVirtualSize ?? 0)) {
      phase(`Growing the disk to ${build.growToBytes} bytes`);
      await qemuImgResize({ path: overlay, format: "qcow2", sizeBytes: build.growToBytes });
    }

    // Scripts and uploaded files are handed over as files, never through a shell.
    const scripts: [string, string][] = [];
    const blobPaths = new Map<string, string>();
    for (const step of document.steps)
      // Linked into the build's folder: a cached copy may be evicted while virt-customize runs.
      if (step.type === "upload")
        blobPaths.set(
          step.blobSha256,
          await linkBlob({ sha256: step.blobSha256, target: path.join(workDir, `upload-${step.blobSha256}`) }),
        );
    const command = virtCustomizeArgs({
      disk: overlay,
      steps: document.steps,
      files: {
        script: (index, content) => {
          const file = path.join(workDir, `step-${index + 1}.sh`);
          scripts.push([file, content]);
          return file;
        },
        blob: (sha256) => blobPaths.get(sha256)!,
      },
    });
    for (const [file, content] of scripts) await writeFile(file, content, { mode: 0o600 });

    phase(
      `Running virt-customize with ${document.steps.length} step${document.steps.length === 1 ? "" : "s"} (one appliance launch)`,
    );
    const sandbox = await openBuildSandbox({
      network: stepsNeedNetwork(document.steps),
      log: (line) => log.write("hangar", line),
    });
    try {
      await runVirtCustomize({
        buildId,
        args: command.args,
        sandbox,
        log,
        tracker,
        signal: controller.signal,
        onProgress: () => (stepsDirty = true),
      });
    } finally {
      await sandbox.close();
    }
    tracker.complete();
    stepsDirty = true;
    await saveSteps();

    const outputFormat = build.outputFormat as DiskFormat;
    const output = path.join(workDir, `output.${outputFormat}`);
    phase(`Converting to ${outputFormat} (flattening the overlay)`);
    await qemuImgConvert({
      src: overlay,
      srcFormat: "qcow2",
      dst: output,
      dstFormat: outputFormat,
      signal: controller.signal,
    });
    phase("Hashing and inspecting the output");
    const ingest = await checkProducedFile(output, outputFormat);
    if (ingest.refusal) throw new StepFailed(`The output failed inspection: ${ingest.refusal}`);
    if (controller.signal.aborted) throw stopReason!;

    stored = await beginBlobWrite(ingest.sha256);
    await store.putFromTempFile({ tempPath: output, sha256: ingest.sha256, size: ingest.size });
    const landed = await completeBuild({
      build,
      attempt: claimed.attempt,
      output: {
        format: outputFormat,
        virtualSize: ingest.report.virtualSize ?? 0,
        size: ingest.size,
        sha256: ingest.sha256,
        sha512: ingest.sha512,
        inspection: { ...ingest.report, qemuImg: ingest.qemuImg },
      },
    });
    if (landed.status === "refused") throw new StepFailed(landed.reason);
    if (landed.status === "cancelled") throw new Cancelled();
    await stored.end();
    stored = null;
    // The output's content is read by its own job (packages, OS facts), sent now that it landed.
    if (landed.scanRequested) await sendContentScan(ingest.sha256);
    await queueBlobChecksums(ingest.sha256);
    await queueBootTestAfterBuild(landed.versionId, build.requestedById);
    await queueBuildEvent("build.succeeded", { buildId });
    await queueVersionEvent("version.ready", { versionId: landed.versionId, actorId: build.requestedById });
    phase(
      `Done: ${landed.imageSlug ?? "image"} build-${build.number} is waiting for review (version ${landed.versionId})`,
    );
  } catch (error) {
    const outcome = error instanceof Cancelled || error instanceof JobStopped ? error : stopReason;
    if (outcome instanceof Cancelled) {
      phase("Cancelled; nothing was kept.");
      await finishBuild(buildId, { status: "cancelled", failureReason: "Cancelled while running; nothing was kept." });
      await queueBuildEvent("build.cancelled", { buildId });
    } else if (outcome instanceof JobStopped) {
      phase(outcome.message);
      await finishBuild(buildId, { status: "failed", failureReason: outcome.message });
      await queueBuildEvent("build.failed", { buildId });
    } else {
      const failedStep = tracker.fail();
      const reason =
        error instanceof StepFailed
          ? error.message
          : failedStep !== null
            ? `Step ${failedStep + 1} (${tracker.progress[failedStep]!.label}) failed. What the guest printed last:\n${log.tail.slice(-8).join("\n")}`
            : `The build failed: ${(error as Error).message.split("\n")[0]}`;
      phase(`Failed: ${reason.split("\n")[0]}`);
      stepsDirty = true;
      await saveSteps().catch(() => {});
      await finishBuild(buildId, { status: "failed", failureReason: reason });
      await queueBuildEvent("build.failed", { buildId });
      // A step failing in the guest is the recipe's problem and is in the log; anything else is ours.
      if (!(error instanceof StepFailed) && failedStep === null) console.error(`build ${buildId} failed`, error);
    }
    // Bytes stored for an output that did not land go again, unless something else holds the same blob.
    await stored?.discard().catch(() => {});
  } finally {
    clearInterval(heartbeat);
    signal?.removeEventListener("abort", onJobStop);
    await log.flush();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** One virt-customize run in its own process group, its output streamed into the log. */
async function runVirtCustomize({
  buildId,
  args,
  sandbox,
  log,
  tracker,
  signal,
  onProgress,
}: {
  buildId: string;
  args: string[];
  sandbox: BuildSandbox;
  log: LogWriter;
  tracker: StepTracker;
  signal: AbortSignal;
  onProgress: () => void;
}): Promise<void> {
  const sandboxed = sandbox.wrap(VIRT_CUSTOMIZE, args);
  const run = runInProcessGroup(sandboxed.command, sandboxed.args, { signal, env: await libguestfsEnv() });
  if (run.pid) await setBuildProcessGroup(buildId, run.pid);
  for (const [stream, name] of [
    [run.stdout, "out"],
    [run.stderr, "err"],
  ] as const) {
    createInterface({ input: stream }).on("line", (line) => {
      log.write(name, line);
      if (tracker.line(line)) onProgress();
    });
  }
  const code = await run.exit;
  if (signal.aborted) throw signal.reason;
  if (code !== 0) throw new Error(`virt-customize exited with ${code}`);
}
