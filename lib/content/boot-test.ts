// The boot test, run by a worker for one queued test: is there anything to boot at all (the first
// sectors, read through qemu-img), then a real QEMU boot of the version on a throwaway qcow2 overlay
// in a private work directory, with no network device, bounded memory, CPU time and address space
// (prlimit), in its own process group, its serial console streamed into boot_test_logs (cleaned of
// escapes and control characters, capped) until the success condition appears: a login prompt by
// default, or the image's marker line. The process group is killed and the work directory removed
// in every outcome: passed, failed (QEMU stopped, the guest powered off, a kernel panic), timed out,
// not bootable, cancelled, or the worker stopping.
import { constants } from "node:fs";
import { access, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  appendBootTestLogs,
  claimBootTest,
  finishBootTest,
  heartbeatBootTest,
  setBootTestProcessGroup,
  type BootVerdict,
} from "@/db/queries/boot-tests";
import { env } from "@/lib/env";
import { accelerationLabels, formatDuration, type Acceleration } from "@/lib/format";
import { createOverlay, stageDisk } from "@/lib/images/backing";
import { acceleration } from "@/lib/jobs/acceleration";
import { JobStopped } from "@/lib/jobs/job-run";
import { runInProcessGroup } from "@/lib/jobs/process-group";
import { Cancelled, superviseRun } from "@/lib/jobs/supervised-run";
import { ConsoleLines, describeSuccess, fatalLine, successMatcher } from "./boot-console";
import { checkBootability, type Firmware } from "./boot-sectors";
import { bootTestWorkDir } from "./work-dir";

const LOG_FLUSH_MS = 250;
/** The console kept per test; what the guest prints beyond it is counted as dropped, not stored. */
export const MAX_CONSOLE_BYTES = 1024 ** 2;

const UEFI_FIRMWARE: Record<string, string[]> = {
  x86_64: ["/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd", "/usr/share/qemu/OVMF.fd"],
  aarch64: ["/usr/share/qemu-efi-aarch64/QEMU_EFI.fd", "/usr/share/AAVMF/AAVMF_CODE.fd"],
};
const EMULATORS: Record<string, string> = { x86_64: "qemu-system-x86_64", aarch64: "qemu-system-aarch64" };

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(command: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":"))
    if (dir && (await executable(path.join(dir, command)))) return path.join(dir, command);
  return null;
}

async function firstFile(candidates: string[]): Promise<string | null> {
  for (const file of candidates) {
    try {
      await access(file, constants.R_OK);
      return file;
    } catch {
      // next
    }
  }
  return null;
}

export interface BootCommandInput {
  disk: string;
  /** The disk file's format as QEMU names it (the overlay is qcow2). */
  format: string;
  arch: string;
  accel: Acceleration;
  memoryMiB: number;
  /** A file of UEFI firmware, or null for the default BIOS (x86_64). */
  uefi: string | null;
  /** A CD image boots from QEMU's CD drive. */
  cdrom?: boolean;
}

/**
 * QEMU's arguments for a boot test: the serial console on stdout, nothing else attached (no
 * network device, no display, no monitor), no reboot (a guest that reboots or powers off ends QEMU).
 * The benchmark's hand-run QEMU uses the same arguments.
 */
export function qemuBootArgs({ disk, format, arch, accel, memoryMiB, uefi, cdrom = false }: BootCommandInput): {
  command: string;
  args: string[];
} {
  const command = EMULATORS[arch];
  if (!command) throw new Error(`no emulator for ${arch}`);
  const machine =
    arch === "aarch64" ? ["-machine", "virt", "-cpu", accel === "kvm" ? "host" : "cortex-a57"] : ["-machine", "pc"];
  const drive = cdrom
    ? ["-drive", `file=${disk},format=${format},media=cdrom,readonly=on`]
    : ["-drive", `file=${disk},format=${format},if=virtio,cache=unsafe`];
  return {
    command,
    args: [
      "-accel",
      accel,
      ...machine,
      "-m",
      String(memoryMiB),
      "-smp",
      "1",
      "-nodefaults",
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-nic",
      "none",
      "-no-reboot",
      ...(uefi ? ["-bios", uefi] : []),
      ...drive,
    ],
  };
}

/** prlimit's bounds for a guest: its CPU time (seconds) and QEMU's address space (guest memory plus QEMU's own). */
export function qemuLimits({ memoryMiB, timeoutSeconds }: { memoryMiB: number; timeoutSeconds: number }): string[] {
  const addressSpace = (memoryMiB + 4096) * 1024 ** 2;
  return [`--cpu=${timeoutSeconds * 2 + 120}`, `--as=${addressSpace}`];
}

/** Console lines go to PostgreSQL a batch at a time, up to MAX_CONSOLE_BYTES. */
class ConsoleWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private kept = 0;
  private capped = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  readonly tail: string[] = [];

  constructor(private readonly bootTestId: string) {}

  write(line: string, { hangar = false }: { hangar?: boolean } = {}) {
    if (!hangar) {
      this.tail.push(line);
      if (this.tail.length > 12) this.tail.shift();
    }
    const text = hangar ? `[hangar] ${line}` : line;
    const bytes = Buffer.byteLength(text) + 1;
    if (this.capped && !hangar) return;
    if (!hangar && this.kept + bytes > MAX_CONSOLE_BYTES) {
      this.capped = true;
      this.push(
        `[hangar] The console printed more than ${MAX_CONSOLE_BYTES / 1024 ** 2} MiB; the rest is not kept (the test still watches it).`,
        0,
      );
      return;
    }
    this.push(text, hangar ? 0 : bytes);
  }

  private push(text: string, bytes: number) {
    this.kept += bytes;
    this.pending.push(text);
    this.pendingBytes += bytes;
    if (this.pending.length >= 200) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length === 0) return this.writing;
    this.writing = this.writing.then(() =>
      appendBootTestLogs(this.bootTestId, batch, bytes).catch((error) =>
        console.error("boot test log write failed", error),
      ),
    );
    return this.writing;
  }
}

function lastLines(tail: string[]): string {
  return tail.length ? `\nThe console's last lines:\n${tail.slice(-6).join("\n")}` : "";
}

export async function runBootTest(
  { bootTestId }: { bootTestId: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const accel = await acceleration();
  const test = await claimBootTest(bootTestId, {
    acceleration: accel.mode,
    workerHost: os.hostname(),
    workerPid: process.pid,
  });
  if (!test) return;
  const log = new ConsoleWriter(bootTestId);
  const say = (line: string) => log.write(line, { hangar: true });
  const workDir = bootTestWorkDir(bootTestId);
  const run = superviseRun({
    signal,
    heartbeat: () => heartbeatBootTest(bootTestId),
    shutdownMessage: "The worker running this boot test was stopped before it finished. Test the boot again.",
  });
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let verdict: BootVerdict;
  try {
    verdict = await boot({ test, accel, log, say, workDir, signal: run.signal });
  } catch (error) {
    const outcome = run.outcomeOf(error);
    if (outcome instanceof Cancelled) {
      say("Cancelled.");
      verdict = { status: "cancelled", result: null, failureReason: "Cancelled while it ran.", durationMs: elapsed() };
    } else if (outcome instanceof JobStopped) {
      say(outcome.message);
      verdict = { status: "failed", result: null, failureReason: outcome.message, durationMs: elapsed() };
    } else {
      const reason = `The boot test could not run: ${(error as Error).message.split("\n")[0]}`;
      say(reason);
      console.error(`boot test ${bootTestId} failed`, error);
      verdict = { status: "failed", result: null, failureReason: reason, durationMs: elapsed() };
    }
  } finally {
    run.end();
  }
  try {
    await log.flush();
    await finishBootTest(bootTestId, verdict);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function boot({
  test,
  accel,
  log,
  say,
  workDir,
  signal,
}: {
  test: NonNullable<Awaited<ReturnType<typeof claimBootTest>>>;
  accel: { mode: Acceleration; reason: string };
  log: ConsoleWriter;
  say: (line: string) => void;
  workDir: string;
  signal: AbortSignal;
}): Promise<BootVerdict> {
  const checkStarted = Date.now();
  const verdict = (result: BootVerdict["result"], failureReason: string | null, durationMs: number): BootVerdict => ({
    status: "succeeded",
    result,
    failureReason,
    durationMs,
  });
  if (!test.sha256 || !test.format) throw new Error("the version has no stored file any more");
  const disk = { sha256: test.sha256, format: test.format };
  // A linked clone is read through its bases, linked beside it in the work folder.
  const { path: file } = await stageDisk({ disk, dir: workDir });

  // Anything to boot at all? A disk with no boot code and no EFI system partition never will.
  const bootable = await checkBootability({ file, format: test.format, signal });
  if (signal.aborted) throw signal.reason;
  if (!bootable.bootable) {
    say(`Not bootable: ${bootable.reason}.`);
    const reason = bootable.reason.charAt(0).toUpperCase() + bootable.reason.slice(1);
    return verdict("not_bootable", `${reason}.`, Date.now() - checkStarted);
  }
  say(`Found ${bootable.how}.`);

  const emulator = EMULATORS[test.arch];
  if (!emulator) throw new Error(`boot tests run x86_64 and aarch64 images; this image's architecture is ${test.arch}`);
  if (!(await onPath(emulator)))
    throw new Error(
      `${emulator} is not installed on this worker, so ${test.arch} images can't be boot-tested here (install ${test.arch === "aarch64" ? "qemu-system-arm and qemu-efi-aarch64" : "qemu-system-x86"})`,
    );
  let uefi: string | null = null;
  const firmware: Firmware = test.arch === "aarch64" ? "uefi" : bootable.firmware;
  if (firmware === "uefi") {
    uefi = await firstFile(UEFI_FIRMWARE[test.arch] ?? []);
    if (!uefi)
      throw new Error(
        `this image boots with UEFI and no UEFI firmware for ${test.arch} is installed on this worker (install ${test.arch === "aarch64" ? "qemu-efi-aarch64" : "ovmf"})`,
      );
  }

  const overlay = path.join(workDir, "overlay.qcow2");
  await createOverlay({ base: disk, file: overlay });
  const memoryMiB = env().HANGAR_BOOT_TEST_MEMORY;
  const { command, args } = qemuBootArgs({
    disk: overlay,
    format: "qcow2",
    arch: test.arch,
    accel: accel.mode,
    memoryMiB,
    uefi,
    cdrom: test.format === "iso" && !bootable.how.includes("first sector"),
  });
  const success = successMatcher(test.successPattern);
  const wanted = describeSuccess(test.successPattern);
  say(
    `Booting with ${accelerationLabels[accel.mode]} (${accel.reason}), ${memoryMiB} MiB, no network; waiting up to ${formatDuration(test.timeoutSeconds * 1000)} for ${wanted}.`,
  );

  // The run's own stop: the verdict is reached (success, panic, time out) or the test is stopped.
  const run = new AbortController();
  const onStop = () => run.abort(signal.reason);
  signal.addEventListener("abort", onStop, { once: true });
  let decided: BootVerdict | null = null;
  const bootStarted = Date.now();
  const decide = (result: BootVerdict["result"], reason: string | null) => {
    if (decided || signal.aborted) return;
    decided = verdict(result, reason, Date.now() - bootStarted);
    run.abort(new Error("decided"));
  };
  const group = runInProcessGroup(
    "prlimit",
    [...qemuLimits({ memoryMiB, timeoutSeconds: test.timeoutSeconds }), "--", command, ...args],
    { signal: run.signal },
  );
  if (group.pid) await setBootTestProcessGroup(test.id, group.pid);
  const timer = setTimeout(
    () =>
      decide(
        "timed_out",
        `${wanted.charAt(0).toUpperCase()}${wanted.slice(1)} did not appear within ${formatDuration(test.timeoutSeconds * 1000)} (HANGAR_BOOT_TEST_TIMEOUT).${lastLines(log.tail)}`,
      ),
    test.timeoutSeconds * 1000,
  );
  const lines = new ConsoleLines();
  const look = (line: string) => {
    if (success(line)) {
      decide("passed", null);
      return;
    }
    const fatal = fatalLine(line);
    if (fatal) decide("failed", fatal);
  };
  group.stdout.setEncoding("utf8").on("data", (text: string) => {
    for (const line of lines.push(text)) {
      log.write(line);
      look(line);
    }
    // A login prompt waits on an unfinished line.
    if (!decided && lines.partial && success(lines.partial)) {
      log.write(lines.takePartial());
      decide("passed", null);
    }
  });
  let stderr = "";
  group.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-4000)));
  try {
    const code = await group.exit;
    for (const line of lines.end()) {
      log.write(line);
      look(line);
    }
    if (decided) {
      const final: BootVerdict = decided;
      say(
        final.result === "passed"
          ? `Passed: ${wanted} appeared after ${formatDuration(final.durationMs ?? 0)}.`
          : `${final.result === "timed_out" ? "Timed out" : "Failed"}: ${(final.failureReason ?? "").split("\n")[0]}`,
      );
      return final;
    }
    if (signal.aborted) throw signal.reason;
    const qemuWords = stderr.trim().split("\n").slice(-3).join(" / ");
    const reason =
      code === 0
        ? `The guest stopped (it powered off or rebooted) before ${wanted} appeared.${lastLines(log.tail)}`
        : `QEMU stopped with exit code ${code} before ${wanted} appeared${qemuWords ? `: ${qemuWords}` : ""}.${lastLines(log.tail)}`;
    say(`Failed: ${reason.split("\n")[0]}`);
    return verdict("failed", reason, Date.now() - bootStarted);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onStop);
  }
}
