// Makes a clone's bytes, in a private work directory removed however the clone ends:
//   linked: a qcow2 overlay naming its base by sha256 (lib/images/backing.ts): a few hundred KiB
//           whatever the base's size. We made it ourselves, so instead of the import inspector (which
//           refuses backing files on purpose) qemu-img info must show exactly the base we named.
//   full:   `qemu-img convert` with explicit formats (it flattens any backing chain), then the
//           same hash + inspect + cross-check pass as every import, hashing sha256 only: the
//           version is usable once that is known, and blob.checksums adds sha512 and md5 after.
// An identity reset runs one virt-sysprep (one appliance launch) on the copy before it is stored.
// The version appears only when completeClone's transaction commits.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import {
  claimClone,
  completeClone,
  failClone,
  heartbeatClone,
  setCloneProgress,
  sharesSourceBytes,
  type ClonedBytes,
  type CloneWork,
} from "@/db/queries/clones";
import type { DiskFormat } from "@/db/schema";
import { HangarError } from "@/lib/errors";
import { env } from "@/lib/env";
import { checkOverlayOf, createOverlay, stageDisk } from "@/lib/images/backing";
import { qemuImgConvert } from "@/lib/images/qemu-img";
import { checkProducedFile } from "@/lib/imports/ingest";
import { libguestfsEnv } from "@/lib/jobs/acceleration";
import { jobStopped } from "@/lib/jobs/job-run";
import { runInProcessGroup } from "@/lib/jobs/process-group";
import { sendContentScan } from "@/lib/content/requests";
import { queueVersionEvent } from "@/lib/webhooks/events";
import { getBlobStore, hashFile } from "@/lib/storage";
import { queueBlobChecksums } from "@/lib/storage/checksums";
import { beginBlobWrite, type BlobWrite } from "@/lib/processes/blob-writes";

export const VIRT_SYSPREP = env().HANGAR_VIRT_SYSPREP;
const HEARTBEAT_MS = 5000;

/** Formats a full clone keeps; anything else (vhd, vdi, iso) becomes qcow2. */
const keptFormats: readonly DiskFormat[] = ["qcow2", "raw", "vmdk", "vhdx"];

export function cloneWorkDir(cloneId: string): string {
  return path.join(env().dataDir, "clones", cloneId);
}

/** One virt-sysprep run in its own process group, killed with it on abort (the clone's time limit or a stopping worker). */
export async function runSysprep({
  file,
  format,
  operations,
  signal,
}: {
  file: string;
  format: DiskFormat;
  operations: string[];
  signal?: AbortSignal;
}): Promise<void> {
  const args = ["--format", format, "-a", file, "--operations", operations.join(",")];
  const run = runInProcessGroup(VIRT_SYSPREP, args, { signal, env: await libguestfsEnv() });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  run.stdout.on("data", keep);
  run.stderr.on("data", keep);
  const code = await run.exit;
  if (signal?.aborted) throw signal.reason;
  if (code !== 0) {
    const last = output.trim().split("\n").filter(Boolean).slice(-3).join(" ");
    throw new HangarError(
      "invalid",
      `The identity reset failed (virt-sysprep exited with ${code}): ${last || "no output"}`,
    );
  }
}

async function makeLinked(
  work: CloneWork,
  dir: string,
  signal?: AbortSignal,
): Promise<{ file: string; bytes: Omit<ClonedBytes, "sha256" | "sha512" | "size"> }> {
  const base = { sha256: work.source.sha256, format: work.source.format };
  const file = path.join(dir, "clone.qcow2");
  await setCloneProgress(work.id, { stage: "Creating the overlay", progress: 5 });
  let info = await createOverlay({ base, file });
  if (work.resetOperations.length) {
    await setCloneProgress(work.id, { stage: `Resetting identity (${work.resetOperations.join(", ")})`, progress: 10 });
    await runSysprep({ file, format: "qcow2", operations: work.resetOperations, signal });
    info = await checkOverlayOf({ file, base });
  }
  return {
    file,
    bytes: {
      format: "qcow2",
      virtualSize: info["virtual-size"],
      backingVersionId: work.source.versionId,
      inspection: {
        format: "qcow2",
        virtualSize: info["virtual-size"],
        safe: true,
        problems: [],
        linkedClone: {
          backingVersionId: work.source.versionId,
          backingFormat: work.source.format,
          note: "A copy-on-write overlay made by Hangar on an approved version; downloads are flattened into a self-contained file.",
        },
        qemuImg: info,
      },
    },
  };
}

async function makeFull(
  work: CloneWork,
  dir: string,
  signal?: AbortSignal,
): Promise<{ file: string; bytes: Omit<ClonedBytes, "sha256" | "sha512" | "size"> }> {
  const src = await stageDisk({ disk: work.source, dir });
  const format: DiskFormat = keptFormats.includes(work.source.format) ? work.source.format : "qcow2";
  const file = path.join(dir, `clone.${format}`);
  const resetting = work.resetOperations.length > 0;
  const copyShare = resetting ? 60 : 90;
  let last = 0;
  await setCloneProgress(work.id, { stage: "Copying", progress: 0 });
  await qemuImgConvert({
    src: src.path,
    srcFormat: work.source.format,
    dst: file,
    dstFormat: format,
    signal,
    onProgress: (percent) => {
      const scaled = Math.floor((percent * copyShare) / 100);
      if (scaled > last) {
        last = scaled;
        void setCloneProgress(work.id, { progress: scaled }).catch(() => {});
      }
    },
  });
  if (resetting) {
    await setCloneProgress(work.id, {
      stage: `Resetting identity (${work.resetOperations.join(", ")})`,
      progress: copyShare,
    });
    await runSysprep({ file, format, operations: work.resetOperations, signal });
  }
  await setCloneProgress(work.id, { stage: "Checking and storing", progress: 95 });
  return { file, bytes: { format, virtualSize: 0, backingVersionId: null, inspection: {} } };
}

/** A finished clone is a new ready version too. */
async function queueCloneEvents(cloneId: string, versionId: string): Promise<void> {
  await queueVersionEvent("clone.finished", { versionId, extra: { clone: { id: cloneId } } });
  await queueVersionEvent("version.ready", { versionId });
}

export type CloneOutcome = { status: "succeeded" } | { status: "failed"; reason: string } | { status: "not-runnable" };

/** Runs one clone to its end: succeeded with a version, or failed with a reason and nothing kept. */
export async function runClone(
  { cloneId }: { cloneId: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<CloneOutcome> {
  const work = await claimClone(cloneId);
  if (!work) return { status: "not-runnable" };
  const dir = cloneWorkDir(cloneId);
  const store = getBlobStore();
  let stored: BlobWrite | null = null;
  // Any worker ends a clone whose heartbeat stops (see lib/builds/sweeper.ts).
  const heartbeat = setInterval(() => void heartbeatClone(cloneId).catch(() => {}), HEARTBEAT_MS);
  try {
    if (sharesSourceBytes(work.mode, work.resetOperations, work.source.linked)) {
      // A self-contained version copied without changes is the same bytes: its content-addressed
      // blob is already stored, checked and hashed, and now also held by the new version.
      await setCloneProgress(cloneId, { stage: "Sharing the stored file (identical bytes)", progress: 50 });
      const { sha256, sha512, size, format, virtualSize, inspection } = work.source;
      // The same bytes: their content scan is the source's (requested here only if it had none).
      const shared = await completeClone(cloneId, {
        sha256,
        sha512,
        size,
        format,
        virtualSize,
        backingVersionId: null,
        inspection: inspection ?? {},
      });
      if (shared.scanRequested) await sendContentScan(sha256);
      // The source's own checksums may still be on their way (or predate md5).
      await queueBlobChecksums(sha256);
      await queueCloneEvents(cloneId, shared.versionId);
      return { status: "succeeded" };
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const made = work.mode === "linked" ? await makeLinked(work, dir, signal) : await makeFull(work, dir, signal);
    let bytes: ClonedBytes;
    if (work.mode === "linked") {
      const hashes = await hashFile(made.file);
      bytes = { ...made.bytes, ...hashes };
    } else {
      // The copy is checked like any import before anyone can use it.
      const ingest = await checkProducedFile(made.file, made.bytes.format, { sha512: false });
      if (ingest.refusal) throw new Error(`the copy failed inspection: ${ingest.refusal}`);
      bytes = {
        ...made.bytes,
        sha256: ingest.sha256,
        sha512: ingest.sha512,
        size: ingest.size,
        virtualSize: ingest.report.virtualSize ?? 0,
        inspection: ingest.report,
      };
    }
    if (signal?.aborted) throw signal.reason; // the hashing pass does not watch the signal
    stored = await beginBlobWrite(bytes.sha256);
    await store.putFromTempFile({ tempPath: made.file, sha256: bytes.sha256, size: bytes.size });
    const completed = await completeClone(cloneId, bytes);
    await stored.end();
    stored = null;
    if (completed.scanRequested) await sendContentScan(bytes.sha256);
    await queueBlobChecksums(bytes.sha256);
    await queueCloneEvents(cloneId, completed.versionId);
    return { status: "succeeded" };
  } catch (error) {
    const reason = signal?.aborted
      ? (jobStopped(signal)?.message ??
        "The clone was stopped before it finished (the worker shut down); request it again.")
      : error instanceof HangarError
        ? error.message
        : "The clone could not be made; an admin can find the details in the server log. Nothing was created.";
    if (!(error instanceof HangarError)) console.error(`clone ${cloneId} failed`, error);
    await failClone(cloneId, reason);
    // Bytes stored for a clone that did not land go again, unless something else holds the same blob.
    await stored?.discard().catch(() => {});
    return { status: "failed", reason };
  } finally {
    clearInterval(heartbeat);
    await rm(dir, { recursive: true, force: true });
  }
}
