// Every qemu-img call names its formats explicitly (-f, -O, -F): qemu must never guess a format
// from hostile bytes. Calls run without a shell, under prlimit (CPU seconds and address space)
// and a wall-clock timeout.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";

import path from "node:path";
import { promisify } from "node:util";
import { env } from "../env";
import { formatBytes } from "../format";
import { runInProcessGroup } from "../jobs/process-group";
import { createInspector, type InspectionProblem, type InspectionReport } from "./inspector";

const run = promisify(execFile);

export const qemuFormats = ["raw", "qcow2", "vmdk", "vpc", "vhdx", "vdi"] as const;
export type QemuFormat = (typeof qemuFormats)[number];

/** Hangar's names for formats, mapped to qemu's (qemu calls VHD "vpc"; ISO is read as raw). */
export function qemuFormatOf(format: string): QemuFormat {
  if (format === "vhd") return "vpc";
  if (format === "iso") return "raw";
  if (["raw", "qcow2", "vmdk", "vhdx", "vdi"].includes(format)) return format as QemuFormat;
  throw new Error(`no qemu format for ${format}`);
}

interface Limits {
  cpuSeconds: number;
  addressSpaceBytes: number;
  timeoutMs: number;
}

const inspectLimits: Limits = { cpuSeconds: 30, addressSpaceBytes: 1024 ** 3, timeoutMs: 60_000 };
const convertLimits: Limits = {
  cpuSeconds: 4 * 60 * 60,
  addressSpaceBytes: 4 * 1024 ** 3,
  timeoutMs: 6 * 60 * 60 * 1000,
};

function limited(args: string[], limits: Limits): [string, string[]] {
  return ["prlimit", [`--cpu=${limits.cpuSeconds}`, `--as=${limits.addressSpaceBytes}`, "--", "qemu-img", ...args]];
}

async function qemuImg(args: string[], limits: Limits = inspectLimits): Promise<string> {
  const [command, argv] = limited(args, limits);
  const { stdout } = await run(command, argv, {
    timeout: limits.timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, LC_ALL: "C" },
  });
  return stdout;
}

export interface QemuImgInfo {
  format: string;
  "virtual-size": number;
  "actual-size"?: number;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  "backing-filename-format"?: string;
  "format-specific"?: {
    type: string;
    data?: Record<string, unknown> & {
      "data-file"?: string;
      corrupt?: boolean;
      "create-type"?: string;
      extents?: { filename: string }[];
    };
  };
}

export async function qemuImgInfo({ path: file, format }: { path: string; format: string }): Promise<QemuImgInfo> {
  const stdout = await qemuImg(["info", "--output=json", "-f", qemuFormatOf(format), file]);
  return JSON.parse(stdout) as QemuImgInfo;
}

export interface CrossCheckResult {
  safe: boolean;
  problems: InspectionProblem[];
  info?: QemuImgInfo;
}

/**
 * Why a disk of this virtual size may not be stored: above the global cap (every upload, URL import,
 * conversion, build output and clone passes through crossCheck, so this is its one home) or above
 * the project's whole quota.
 */
function virtualSizeProblems(
  virtualSize: number,
  maxVirtualSize: number,
  quotaBytes: number | undefined,
): InspectionProblem[] {
  const problems: InspectionProblem[] = [];
  if (virtualSize > maxVirtualSize) {
    problems.push({
      code: "virtual_size_cap",
      message: `The disk's virtual size is ${formatBytes(virtualSize)} (${virtualSize} bytes), above the ${formatBytes(maxVirtualSize)} this Hangar accepts (the HANGAR_MAX_VIRTUAL_SIZE setting). Shrink the disk, or ask the operator to raise HANGAR_MAX_VIRTUAL_SIZE.`,
    });
  }
  if (quotaBytes !== undefined && virtualSize > quotaBytes) {
    problems.push({
      code: "virtual_size_quota",
      message: `The disk's virtual size (${formatBytes(virtualSize)}) is larger than the project's whole storage quota (${formatBytes(quotaBytes)}); ask an admin for more quota.`,
    });
  }
  return problems;
}

/**
 * The spec's qemu-img cross-check, run only after the streaming inspector passed; together they are
 * the verdict on every file Hangar stores. The virtual-size cap defaults to HANGAR_MAX_VIRTUAL_SIZE.
 */
export async function crossCheck({
  path: file,
  report,
  quotaBytes,
  maxVirtualSize = env().HANGAR_MAX_VIRTUAL_SIZE,
}: {
  path: string;
  report: InspectionReport;
  quotaBytes?: number;
  maxVirtualSize?: number;
}): Promise<CrossCheckResult> {
  // A size the header already states is refused before qemu-img is even asked.
  const claimed =
    report.virtualSize !== null ? virtualSizeProblems(report.virtualSize, maxVirtualSize, quotaBytes) : [];
  if (claimed.length) return { safe: false, problems: claimed };
  const problems: InspectionProblem[] = [];
  let info: QemuImgInfo;
  try {
    info = await qemuImgInfo({ path: file, format: report.format });
  } catch (error) {
    const detail = String((error as { stderr?: string }).stderr ?? (error as Error).message)
      .trim()
      .split("\n")
      .pop();
    return {
      safe: false,
      problems: [
        {
          code: "qemu_img_failed",
          message: `qemu-img could not read the file as ${report.format} (${detail}). The file is damaged or not what it claims to be.`,
        },
      ],
    };
  }
  const expected = qemuFormatOf(report.format);
  if (info.format !== expected) {
    problems.push({
      code: "qemu_format_mismatch",
      message: `qemu-img reads this file as ${info.format}, but the inspection found ${report.format}; Hangar refuses files whose format is ambiguous.`,
    });
  }
  if (info["backing-filename"] || info["full-backing-filename"]) {
    problems.push({
      code: "backing_file",
      message: `qemu-img reports a backing file (${info["backing-filename"] ?? info["full-backing-filename"]}); upload a self-contained image (qemu-img convert flattens it).`,
    });
  }
  const data = info["format-specific"]?.data;
  if (data?.["data-file"])
    problems.push({
      code: "external_data_file",
      message: "qemu-img reports an external data file; upload a self-contained image.",
    });
  if (data?.corrupt === true)
    problems.push({
      code: "corrupt",
      message: "qemu-img marks this qcow2 image as corrupt; repair it with qemu-img check -r all before uploading.",
    });
  if (report.format === "vmdk") {
    const createType = data?.["create-type"];
    if (createType !== "monolithicSparse" && createType !== "streamOptimized") {
      problems.push({
        code: "vmdk_create_type",
        message: `qemu-img reports the VMDK type ${String(createType)}; only monolithicSparse and streamOptimized are accepted.`,
      });
    }
    const resolved = path.resolve(file);
    for (const extent of data?.extents ?? []) {
      if (path.resolve(path.dirname(file), extent.filename) !== resolved) {
        problems.push({
          code: "vmdk_extent",
          message: "qemu-img reports a VMDK extent in another file; upload a single-file VMDK.",
        });
      }
    }
  }
  const virtualSize = info["virtual-size"];
  if (!(virtualSize > 0))
    problems.push({
      code: "virtual_size_zero",
      message: "qemu-img reports a virtual size of 0; the image is empty or malformed.",
    });
  // qemu reads raw (and ISO) as whole 512-byte sectors; every other format states its size.
  const expectedSize =
    report.format === "raw" || report.format === "iso" ? Math.ceil(report.fileSize / 512) * 512 : report.virtualSize;
  if (expectedSize !== null && virtualSize !== expectedSize) {
    problems.push({
      code: "virtual_size_mismatch",
      message: `qemu-img reports a virtual size of ${virtualSize} bytes but the file says ${expectedSize}; the file is inconsistent.`,
    });
  }
  problems.push(...virtualSizeProblems(virtualSize, maxVirtualSize, quotaBytes));
  return { safe: problems.length === 0, problems, info };
}

export interface FileVerdict extends InspectionReport {
  qemuImg?: QemuImgInfo;
}

/** Streams a local file through the inspector, then the cross-check: the CLI and the seed use this. */
export async function inspectFile({
  path: file,
  claimedFormat,
  chunkSize = 1024 * 1024,
}: {
  path: string;
  claimedFormat?: string | null;
  chunkSize?: number;
}): Promise<FileVerdict> {
  const inspector = createInspector({
    claimedFormat: claimedFormat && claimedFormat !== "detect" ? claimedFormat : undefined,
  });
  for await (const chunk of createReadStream(file, { highWaterMark: chunkSize })) inspector.write(chunk as Buffer);
  const report = inspector.finish();
  if (!report.safe) return report;
  const checked = await crossCheck({ path: file, report });
  return { ...report, safe: checked.safe, problems: [...report.problems, ...checked.problems], qemuImg: checked.info };
}

export async function qemuImgCreate({
  path: file,
  format,
  sizeBytes,
}: {
  path: string;
  format: string;
  sizeBytes: number;
}): Promise<void> {
  await qemuImg(["create", "-q", "-f", qemuFormatOf(format), file, String(sizeBytes)]);
}

/**
 * A qcow2 overlay whose header names its base by `backingName`, which qemu resolves against dst's
 * folder (lib/images/backing.ts decides the name and puts the base there); explicit -F, so the base
 * is never probed.
 */
export async function qemuImgCreateOverlay({
  backingName,
  backingFormat,
  dst,
}: {
  backingName: string;
  backingFormat: string;
  dst: string;
}): Promise<void> {
  await qemuImg(["create", "-q", "-f", "qcow2", "-F", qemuFormatOf(backingFormat), "-b", backingName, dst]);
}

/**
 * Rewrites only the backing name (and format) in a qcow2 overlay's header (`rebase -u`): the data
 * stays as it is, so the base named must hold the same bytes as the one it replaces.
 */
export async function qemuImgRebaseUnsafe({
  file,
  backingName,
  backingFormat,
}: {
  file: string;
  backingName: string;
  backingFormat: string;
}): Promise<void> {
  await qemuImg(["rebase", "-q", "-u", "-f", "qcow2", "-F", qemuFormatOf(backingFormat), "-b", backingName, file]);
}

/** Grows a disk's virtual size (the partitions and filesystems inside stay as they are). */
export async function qemuImgResize({
  path: file,
  format,
  sizeBytes,
}: {
  path: string;
  format: string;
  sizeBytes: number;
}): Promise<void> {
  await qemuImg(["resize", "-q", "-f", qemuFormatOf(format), file, String(sizeBytes)]);
}

const convertOptions: Partial<Record<QemuFormat, string[]>> = {
  vmdk: ["-o", "subformat=streamOptimized"],
};

/** Sparse-preserving conversion with progress (qemu-img -p prints "(NN.NN/100%)"). */
export async function qemuImgConvert({
  src,
  srcFormat,
  dst,
  dstFormat,
  onProgress,
  signal,
}: {
  src: string;
  srcFormat: string;
  dst: string;
  dstFormat: string;
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const output = qemuFormatOf(dstFormat);
  const args = [
    "convert",
    "-p",
    "-f",
    qemuFormatOf(srcFormat),
    "-O",
    output,
    ...(convertOptions[output] ?? []),
    src,
    dst,
  ];
  const [command, argv] = limited(args, convertLimits);
  // In a process group like the libguestfs tools, so a stopping or dying Hangar leaves no copy running.
  const run = runInProcessGroup(command, argv, { signal, timeoutMs: convertLimits.timeoutMs });
  let stderr = "";
  run.stdout.setEncoding("utf8").on("data", (text: string) => {
    const matches = [...text.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
    const last = matches.at(-1);
    if (last?.[1]) onProgress?.(Number(last[1]));
  });
  run.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const code = await run.exit;
  if (signal?.aborted) throw signal.reason;
  if (code !== 0) throw new Error(`qemu-img convert exited with ${code}: ${stderr.trim()}`);
}
