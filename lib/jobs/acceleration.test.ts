// The acceleration decision with the paths and the probe command passed in: a fake /dev/kvm, a
// cpuinfo without vmx/svm, probes that hang, fail or print the ready banner, and the real SeaBIOS
// guest under TCG (which proves the banner check matches what qemu really prints).
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { libguestfsEnv, probeAcceleration, seabiosProbe, type ProbeCommand } from "./acceleration";

let dir: string;
let kvm: string;
let withVmx: string;
let withoutFlags: string;
const never: ProbeCommand = { command: "false", args: [], ready: /never/ };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-accel-"));
  kvm = path.join(dir, "kvm");
  await writeFile(kvm, "");
  withVmx = path.join(dir, "cpuinfo-vmx");
  await writeFile(
    withVmx,
    "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae vmx sse2\n\nprocessor\t: 1\nflags\t\t: fpu vmx\n",
  );
  withoutFlags = path.join(dir, "cpuinfo-plain");
  await writeFile(withoutFlags, "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae hypervisor sse2 vmxnet_fake\n");
});

describe("probeAcceleration", () => {
  it("uses TCG without launching anything when /dev/kvm is missing", async () => {
    const decision = await probeAcceleration({
      setting: "auto",
      kvmDevice: path.join(dir, "missing"),
      cpuinfo: withVmx,
      probe: never,
      arch: "x64",
    });
    expect(decision).toEqual({ mode: "tcg", reason: `${path.join(dir, "missing")} does not exist` });
  });

  it("uses TCG without launching anything when /dev/kvm exists but the CPU shows neither vmx nor svm", async () => {
    // A probe that would say KVM works, to prove it is never started.
    const marker = path.join(dir, "probe-ran");
    const wouldSucceed: ProbeCommand = {
      command: "sh",
      args: ["-c", `touch ${marker}; echo SeaBIOS`],
      ready: /SeaBIOS/,
    };
    const decision = await probeAcceleration({
      setting: "auto",
      kvmDevice: kvm,
      cpuinfo: withoutFlags,
      probe: wouldSucceed,
      arch: "x64",
    });
    expect(decision.mode).toBe("tcg");
    expect(decision.reason).toMatch(/exists but .* shows neither vmx nor svm/);
    await expect(writeFile(marker, "", { flag: "wx" })).resolves.toBeUndefined(); // the file did not exist
  });

  it("uses KVM when the probe guest prints its banner, and stops the guest", async () => {
    const running: ProbeCommand = {
      command: "sh",
      args: ["-c", "echo 'SeaBIOS (version test)'; exec sleep 300"],
      ready: /SeaBIOS/,
    };
    const decision = await probeAcceleration({
      setting: "auto",
      kvmDevice: kvm,
      cpuinfo: withVmx,
      probe: running,
      arch: "x64",
    });
    expect(decision).toEqual({ mode: "kvm", reason: "/dev/kvm ran a test guest" });
  });

  it("kills a probe that hangs within its bound, with every process of its group, and uses TCG", async () => {
    const groupFile = path.join(dir, "hang.group");
    // The hang ignores SIGTERM (as a wedged qemu may), so only the SIGKILL that follows ends it.
    const hang: ProbeCommand = {
      command: "sh",
      args: ["-c", `cut -d' ' -f5 /proc/$$/stat > ${groupFile}; trap '' TERM; sleep 300 & sleep 301`],
      ready: /SeaBIOS/,
    };
    const decision = await probeAcceleration({
      setting: "auto",
      kvmDevice: kvm,
      cpuinfo: withVmx,
      probe: hang,
      timeoutMs: 1000,
      arch: "x64",
    });
    expect(decision.mode).toBe("tcg");
    expect(decision.reason).toMatch(/a test guest under KVM did not start within 1 s/);
    const group = Number(await readFile(groupFile, "utf8"));
    expect(group).toBeGreaterThan(1);
    // Every process of the probe's group is gone by the time the decision is made.
    expect(liveProcessesInGroup(group)).toEqual([]);
  });

  it("uses TCG with qemu's own words when the probe guest fails to start", async () => {
    const failing: ProbeCommand = {
      command: "sh",
      args: ["-c", "echo 'qemu-system-x86_64: failed to initialize kvm: Operation not permitted' >&2; exit 1"],
      ready: /SeaBIOS/,
    };
    const decision = await probeAcceleration({
      setting: "auto",
      kvmDevice: kvm,
      cpuinfo: withVmx,
      probe: failing,
      arch: "x64",
    });
    expect(decision.mode).toBe("tcg");
    expect(decision.reason).toContain("failed to initialize kvm: Operation not permitted");
  });

  it("follows HANGAR_ACCEL when an operator forces a mode", async () => {
    expect(await probeAcceleration({ setting: "kvm", kvmDevice: path.join(dir, "missing") })).toEqual({
      mode: "kvm",
      reason: "set by HANGAR_ACCEL=kvm",
    });
    expect(await probeAcceleration({ setting: "tcg", kvmDevice: kvm, cpuinfo: withVmx, probe: never })).toEqual({
      mode: "tcg",
      reason: "set by HANGAR_ACCEL=tcg",
    });
  });

  it("recognises the real SeaBIOS banner (the same guest, run under TCG here)", async () => {
    const decision = await probeAcceleration({
      setting: "auto",
      kvmDevice: kvm,
      cpuinfo: withVmx,
      probe: seabiosProbe("tcg"),
      timeoutMs: 30_000,
      arch: "x64",
    });
    expect(decision.mode).toBe("kvm");
  });
});

describe("libguestfsEnv", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("forces TCG for libguestfs on this machine, which has no /dev/kvm, keeping other backend settings", async () => {
    process.env.LIBGUESTFS_BACKEND_SETTINGS = "force_kvm:gdb";
    const result = await libguestfsEnv();
    expect(result).toEqual({
      LIBGUESTFS_BACKEND: process.env.LIBGUESTFS_BACKEND ?? "direct",
      LIBGUESTFS_BACKEND_SETTINGS: "gdb:force_tcg",
    });
  });
});
