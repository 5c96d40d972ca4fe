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

async function hangar(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: os.tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-"));
  guest = await buildTinyGuest({ dir, name: "cli", sizeMiB: 8, formats: ["raw", "qcow2"] });
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-u", "-F", "raw", "-b", "/etc/passwd", path.join(dir, "backed.qcow2"), "1M"]);
});

describe("hangar inspect", () => {
  it("prints the verdict as JSON and exits 0 for a safe image, from any directory", async () => {
    const result = await hangar(["inspect", guest.qcow2!]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ format: "qcow2", virtualSize: 8 * 1024 * 1024, safe: true, problems: [] });
  });

  it("exits 1 with the reasons for an unsafe image or a false claim", async () => {
    const backed = await hangar(["inspect", path.join(dir, "backed.qcow2")]);
    expect(backed.code).toBe(1);
    expect(JSON.parse(backed.stdout)).toMatchObject({ format: "qcow2", safe: false, problems: expect.arrayContaining([expect.objectContaining({ code: "qcow2_backing_file" })]) });
    const claimed = await hangar(["inspect", "--format", "raw", guest.qcow2!]);
    expect(claimed.code).toBe(1);
    expect(JSON.parse(claimed.stdout).problems[0].message).toMatch(/claims to be raw but is a qcow2 image/);
  });

  it("exits 2 with usage for bad invocations", async () => {
    for (const args of [[], ["inspect"], ["frobnicate", guest.raw], ["inspect", "--bogus", guest.raw], ["inspect", path.join(dir, "missing.img")]]) {
      const result = await hangar(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/Usage: hangar inspect|not a readable file|Unknown/);
    }
  });
});
