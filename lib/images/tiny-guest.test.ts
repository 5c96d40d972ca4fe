import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { hashFile } from "@/lib/storage/hash";
import { buildTinyGuest } from "./tiny-guest";

const run = promisify(execFile);

describe("buildTinyGuest", () => {
  it("builds a real ext4 guest in every format, which qemu-img reads as that format and size", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-guest-"));
    const guest = await buildTinyGuest({
      dir,
      name: "fmt",
      hostname: "web-01",
      sizeMiB: 32,
      osRelease: { id: "debian", name: "Debian GNU/Linux", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" },
      formats: ["raw", "qcow2", "vmdk", "vhdx"],
      extraFiles: { "/etc/motd": "hello from hangar\n" },
    });
    for (const [format, file] of [["raw", guest.raw], ["qcow2", guest.qcow2], ["vmdk", guest.vmdk], ["vhdx", guest.vhdx]] as const) {
      const { stdout } = await run("qemu-img", ["info", "--output=json", "-f", format, file!]);
      const info = JSON.parse(stdout) as { format: string; "virtual-size": number; "backing-filename"?: string };
      expect(info.format).toBe(format);
      expect(info["virtual-size"]).toBe(32 * 1024 * 1024);
      expect(info["backing-filename"]).toBeUndefined();
    }
    const cat = async (file: string) => (await run("debugfs", ["-R", `cat ${file}`, guest.raw])).stdout;
    expect(await cat("/etc/os-release")).toContain('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"');
    expect(await cat("/etc/hostname")).toBe("web-01\n");
    expect(await cat("/etc/motd")).toBe("hello from hangar\n");
    const { stdout: sh } = await run("debugfs", ["-R", "stat /bin/sh", guest.raw]);
    expect(sh).toMatch(/Type: symlink/);
    expect(sh).toMatch(/Fast link dest: "busybox"/);
    const { stdout: fileType } = await run("file", ["-b", "/bin/busybox"]);
    expect(fileType).toMatch(/statically linked/);
  });

  it("gives the same bytes for the same inputs and different bytes for different ones", async () => {
    const a = await buildTinyGuest({ dir: await mkdtemp(path.join(os.tmpdir(), "hangar-guest-")), name: "same", formats: ["raw", "qcow2"] });
    const b = await buildTinyGuest({ dir: await mkdtemp(path.join(os.tmpdir(), "hangar-guest-")), name: "same", formats: ["raw", "qcow2"] });
    const c = await buildTinyGuest({ dir: await mkdtemp(path.join(os.tmpdir(), "hangar-guest-")), name: "other", formats: ["raw"] });
    expect((await hashFile(a.raw)).sha256).toBe((await hashFile(b.raw)).sha256);
    expect((await hashFile(a.qcow2!)).sha256).toBe((await hashFile(b.qcow2!)).sha256);
    expect((await hashFile(a.raw)).sha256).not.toBe((await hashFile(c.raw)).sha256);
    expect((await readFile(a.raw)).length).toBe(64 * 1024 * 1024);
  });
});
