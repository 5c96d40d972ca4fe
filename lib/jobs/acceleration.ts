// Whether guests (libguestfs's appliance, later boot tests) run with KVM or under TCG emulation.
// libguestfs picks KVM whenever /dev/kvm opens, but some hosts have a /dev/kvm that can't run a
// guest (no vmx/svm exposed, broken nesting): the appliance then hangs at launch forever. So a
// worker decides once at start, with a bounded probe that must see a real guest execute code
// (SeaBIOS printing its banner under `-accel kvm`), and every libguestfs run follows the decision.
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { env } from "@/lib/env";
import type { Acceleration } from "@/lib/format";
import { runInProcessGroup } from "./process-group";

export type AccelerationSetting = "auto" | Acceleration;

export interface AccelerationDecision {
  mode: Acceleration;
  /** Why, in words an operator can act on. */
  reason: string;
}

export interface ProbeCommand {
  command: string;
  args: string[];
  /** Seen on stdout once the guest runs. */
  ready: RegExp;
}

/** A guest with no disk and no kernel: the BIOS runs and prints its banner on the debug port. */
export function seabiosProbe(accel: Acceleration): ProbeCommand {
  return {
    command: "qemu-system-x86_64",
    args: [
      "-accel",
      accel,
      "-machine",
      "pc",
      "-m",
      "16",
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-chardev",
      "stdio,id=debug",
      "-device",
      "isa-debugcon,iobase=0x402,chardev=debug",
    ],
    ready: /SeaBIOS/,
  };
}

export async function probeAcceleration({
  setting = env().HANGAR_ACCEL,
  kvmDevice = "/dev/kvm",
  cpuinfo = "/proc/cpuinfo",
  probe = seabiosProbe("kvm"),
  timeoutMs = 15_000,
  arch = process.arch,
}: {
  setting?: AccelerationSetting;
  kvmDevice?: string;
  cpuinfo?: string;
  probe?: ProbeCommand;
  timeoutMs?: number;
  arch?: string;
} = {}): Promise<AccelerationDecision> {
  if (setting !== "auto") return { mode: setting, reason: `set by HANGAR_ACCEL=${setting}` };
  const tcg = (reason: string): AccelerationDecision => ({
    mode: "tcg",
    reason: `${reason}; set HANGAR_ACCEL=kvm to force KVM`,
  });
  try {
    await access(kvmDevice, constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { mode: "tcg", reason: `${kvmDevice} does not exist` };
    return {
      mode: "tcg",
      reason: `${kvmDevice} can't be opened for reading and writing (${code}); give Hangar's user access to it (the kvm group) to use KVM`,
    };
  }
  // The flags and the BIOS probe are x86's; elsewhere a /dev/kvm that opens is trusted.
  if (arch !== "x64") return { mode: "kvm", reason: `${kvmDevice} opens (not probed on ${arch})` };
  const flags = (await readFile(cpuinfo, "utf8").catch(() => "")).match(/^flags\s*:.*$/m)?.[0] ?? "";
  if (!/\b(vmx|svm)\b/.test(flags)) return tcg(`${kvmDevice} exists but ${cpuinfo} shows neither vmx nor svm`);
  return realProbe(probe, timeoutMs, tcg);
}

/** Starts the probe guest; KVM only if it prints `ready` within the bound. The group is gone when this returns. */
async function realProbe(
  probe: ProbeCommand,
  timeoutMs: number,
  tcg: (reason: string) => AccelerationDecision,
): Promise<AccelerationDecision> {
  const controller = new AbortController();
  const run = runInProcessGroup(probe.command, probe.args, { signal: controller.signal });
  let stdout = "";
  let stderr = "";
  let ready = false;
  run.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout = (stdout + text).slice(-4000);
    if (!ready && probe.ready.test(stdout)) {
      ready = true;
      controller.abort();
    }
  });
  run.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-4000)));
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const code = await run.exit.catch(() => null);
  clearTimeout(timer);
  if (ready) return { mode: "kvm", reason: "/dev/kvm ran a test guest" };
  if (controller.signal.aborted)
    return tcg(`a test guest under KVM did not start within ${Math.round(timeoutMs / 1000)} s`);
  const last = stderr.trim().split("\n").pop() || `exit code ${code}`;
  return tcg(`a test guest under KVM failed (${last})`);
}

const globalForAcceleration = globalThis as unknown as { hangarAcceleration?: Promise<AccelerationDecision> };

/** The decision for this process, probed once (a worker does it at start). */
export function acceleration(): Promise<AccelerationDecision> {
  globalForAcceleration.hangarAcceleration ??= probeAcceleration();
  return globalForAcceleration.hangarAcceleration;
}

/** The environment for a libguestfs tool: the direct backend unless set, and forced TCG when KVM doesn't work. */
export async function libguestfsEnv(): Promise<Record<string, string>> {
  const decision = await acceleration();
  const result: Record<string, string> = { LIBGUESTFS_BACKEND: env().LIBGUESTFS_BACKEND };
  if (decision.mode === "tcg") {
    const settings = env()
      .LIBGUESTFS_BACKEND_SETTINGS.split(":")
      .filter((setting) => setting && setting !== "force_kvm");
    result.LIBGUESTFS_BACKEND_SETTINGS = [...settings, "force_tcg"].join(":");
  }
  return result;
}
