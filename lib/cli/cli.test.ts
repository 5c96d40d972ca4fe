import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { buildTinyGuest } from "@/lib/images/tiny-guest";

const run = promisify(execFile);
const cli = path.resolve("bin/hangar.mjs");
let dir: string;
let guest: Awaited<ReturnType<typeof buildTinyGuest>>;

async function hangar(args: string[], environment: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      cwd: os.tmpdir(),
      env: { ...process.env, ...environment },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-"));
  guest = await buildTinyGuest({ dir, name: "cli", sizeMiB: 8, formats: ["raw", "qcow2"] });
  await run("qemu-img", [
    "create",
    "-q",
    "-f",
    "qcow2",
    "-u",
    "-F",
    "raw",
    "-b",
    "/etc/passwd",
    path.join(dir, "backed.qcow2"),
    "1M",
  ]);
  await run("qemu-img", ["create", "-q", "-f", "qcow2", path.join(dir, "huge.qcow2"), "16T"]);
});

describe("hangar inspect", () => {
  it("prints the verdict as JSON and exits 0 for a safe image, from any directory", async () => {
    const result = await hangar(["inspect", guest.qcow2!]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      format: "qcow2",
      virtualSize: 8 * 1024 * 1024,
      safe: true,
      problems: [],
    });
  });

  it("exits 1 with the reasons for an unsafe image or a false claim", async () => {
    const backed = await hangar(["inspect", path.join(dir, "backed.qcow2")]);
    expect(backed.code).toBe(1);
    expect(JSON.parse(backed.stdout)).toMatchObject({
      format: "qcow2",
      safe: false,
      problems: expect.arrayContaining([expect.objectContaining({ code: "qcow2_backing_file" })]),
    });
    const claimed = await hangar(["inspect", "--format", "raw", guest.qcow2!]);
    expect(claimed.code).toBe(1);
    expect(JSON.parse(claimed.stdout).problems[0].message).toMatch(/claims to be raw but is a qcow2 image/);
  });

  it("refuses a virtual size above HANGAR_MAX_VIRTUAL_SIZE (2 TiB by default), as uploads do", async () => {
    const huge = path.join(dir, "huge.qcow2");
    const refused = await hangar(["inspect", huge]);
    expect(refused.code).toBe(1);
    const verdict = JSON.parse(refused.stdout) as { safe: boolean; problems: { code: string; message: string }[] };
    expect(verdict).toMatchObject({ safe: false, problems: [{ code: "virtual_size_cap" }] });
    expect(verdict.problems[0]!.message).toMatch(
      /16 TiB .* above the 2 TiB this Hangar accepts \(the HANGAR_MAX_VIRTUAL_SIZE setting\)/,
    );
    expect((await hangar(["inspect", huge], { HANGAR_MAX_VIRTUAL_SIZE: "16T" })).code).toBe(0);
    const small = await hangar(["inspect", guest.qcow2!], { HANGAR_MAX_VIRTUAL_SIZE: "4M" });
    expect(small.code).toBe(1);
    expect(JSON.parse(small.stdout).problems[0].message).toMatch(/above the 4 MiB this Hangar accepts/);
    const bad = await hangar(["inspect", huge], { HANGAR_MAX_VIRTUAL_SIZE: "huge" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/HANGAR_MAX_VIRTUAL_SIZE: “huge” is not a byte size/);
  });

  it("exits 2 with usage for bad invocations", async () => {
    for (const args of [
      [],
      ["inspect"],
      ["frobnicate", guest.raw],
      ["inspect", "--bogus", guest.raw],
      ["inspect", path.join(dir, "missing.img")],
    ]) {
      const result = await hangar(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/Usage: hangar (inspect|<command>)|not a readable file|Unknown/);
    }
  });
});
