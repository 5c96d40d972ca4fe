import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { createInspector } from "./inspector";
import { crossCheck, inspectFile, qemuImgConvert, qemuImgCreate, qemuImgCreateOverlay, qemuImgInfo } from "./qemu-img";
import { buildTinyGuest } from "./tiny-guest";

const run = promisify(execFile);
let dir: string;
let guest: Awaited<ReturnType<typeof buildTinyGuest>>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-qemu-"));
  guest = await buildTinyGuest({ dir, name: "qemu-test", sizeMiB: 16, formats: ["raw", "qcow2"] });
});

const report = (overrides: Partial<ReturnType<ReturnType<typeof createInspector>["finish"]>>) => ({
  format: "qcow2" as const,
  virtualSize: 16 * 1024 * 1024,
  fileSize: 0,
  safe: true,
  problems: [],
  details: {},
  ...overrides,
});

describe("crossCheck", () => {
  it("passes a self-contained image whose facts agree", async () => {
    expect(await crossCheck({ path: guest.qcow2!, report: report({}) })).toMatchObject({ safe: true, problems: [] });
  });

  it("refuses when qemu-img disagrees with the inspection about format or size", async () => {
    const wrongSize = await crossCheck({ path: guest.qcow2!, report: report({ virtualSize: 1024 }) });
    expect(wrongSize.problems.map((problem) => problem.code)).toEqual(["virtual_size_mismatch"]);
    const wrongFormat = await crossCheck({ path: guest.raw, report: report({ format: "qcow2" }) });
    expect(wrongFormat.safe).toBe(false);
    expect(wrongFormat.problems[0]!.message).toMatch(/qemu-img could not read the file as qcow2/);
  });

  it("refuses a virtual size beyond the quota or the global cap", async () => {
    const overQuota = await crossCheck({ path: guest.qcow2!, report: report({}), quotaBytes: 1024 * 1024 });
    expect(overQuota.problems.map((problem) => problem.code)).toEqual(["virtual_size_quota"]);
    expect(overQuota.problems[0]!.message).toMatch(
      /virtual size \(16 MiB\) is larger than the project's whole storage quota \(1 MiB\)/,
    );
    const overCap = await crossCheck({ path: guest.qcow2!, report: report({}), maxVirtualSize: 1024 * 1024 });
    expect(overCap.problems.map((problem) => problem.code)).toEqual(["virtual_size_cap"]);
    expect(overCap.problems[0]!.message).toMatch(
      /virtual size is 16 MiB \(16777216 bytes\), above the 1 MiB this Hangar accepts \(the HANGAR_MAX_VIRTUAL_SIZE setting\)/,
    );
  });

  it("refuses a structurally valid 16 TiB disk by the global cap (2 TiB unless configured), whoever asks", async () => {
    const huge = path.join(dir, "huge.qcow2");
    await qemuImgCreate({ path: huge, format: "qcow2", sizeBytes: 16 * 1024 ** 4 });
    const verdict = await inspectFile({ path: huge, claimedFormat: "qcow2" });
    expect(verdict).toMatchObject({ format: "qcow2", virtualSize: 16 * 1024 ** 4, safe: false });
    expect(verdict.problems.map((problem) => problem.code)).toEqual(["virtual_size_cap"]);
    expect(verdict.problems[0]!.message).toMatch(
      /16 TiB \(17592186044416 bytes\), above the 2 TiB this Hangar accepts \(the HANGAR_MAX_VIRTUAL_SIZE setting\)/,
    );
    // Just under the cap passes: the cap, not the inspector, refused it.
    expect(
      (
        await crossCheck({
          path: huge,
          report: { ...verdict, safe: true, problems: [] },
          maxVirtualSize: 16 * 1024 ** 4,
        })
      ).safe,
    ).toBe(true);
  });

  it("reports a backing file qemu-img sees, even if the inspector were fooled", async () => {
    const overlay = path.join(dir, "overlay.qcow2");
    await qemuImgCreateOverlay({ backingName: path.basename(guest.qcow2!), backingFormat: "qcow2", dst: overlay });
    const checked = await crossCheck({ path: overlay, report: report({}) });
    expect(checked.problems.map((problem) => problem.code)).toContain("backing_file");
  });
});

describe("qemu-img operations", () => {
  it("creates overlays with an explicit backing format, naming the base as given (relative to the overlay)", async () => {
    const overlay = path.join(dir, "explicit.qcow2");
    await qemuImgCreateOverlay({ backingName: path.basename(guest.raw), backingFormat: "raw", dst: overlay });
    const info = await qemuImgInfo({ path: overlay, format: "qcow2" });
    expect(info["backing-filename"]).toBe(path.basename(guest.raw));
    expect(info["backing-filename-format"]).toBe("raw");
  });

  it("converts with progress, keeps the output sparse, and the output passes inspection", async () => {
    const progress: number[] = [];
    const out = path.join(dir, "converted.vhdx");
    await qemuImgConvert({
      src: guest.qcow2!,
      srcFormat: "qcow2",
      dst: out,
      dstFormat: "vhdx",
      onProgress: (value) => progress.push(value),
    });
    expect(progress.at(-1)).toBe(100);
    const verdict = await inspectFile({ path: out, claimedFormat: "vhdx" });
    expect(verdict).toMatchObject({ format: "vhdx", safe: true, virtualSize: 16 * 1024 * 1024 });
    const { stdout } = await run("du", ["-k", out]);
    expect(Number(stdout.split("\t")[0])).toBeLessThan(16 * 1024);
  });

  it("creates images of a given size", async () => {
    const target = path.join(dir, "made.qcow2");
    await qemuImgCreate({ path: target, format: "qcow2", sizeBytes: 2 * 1024 * 1024 });
    expect((await qemuImgInfo({ path: target, format: "qcow2" }))["virtual-size"]).toBe(2 * 1024 * 1024);
  });

  it("runs qemu-img under prlimit, so a runaway call is stopped", async () => {
    await expect(
      run("prlimit", ["--as=1048576", "--", "qemu-img", "info", "-f", "qcow2", guest.qcow2!]),
    ).rejects.toThrow();
  });
});
