import { execFile } from "node:child_process";
import { mkdtemp, readdir, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { hashFile } from "@/lib/storage/hash";
import { buildTinyGuest } from "./tiny-guest";

const run = promisify(execFile);
const tempDir = () => mkdtemp(path.join(os.tmpdir(), "hangar-guest-"));

async function debugfs(image: string, command: string): Promise<string> {
  return (await run("debugfs", ["-R", command, image])).stdout;
}

describe("buildTinyGuest", () => {
  it("builds a real ext4 guest in every format, which qemu-img reads as that format and size", async () => {
    const dir = await tempDir();
    const guest = await buildTinyGuest({
      dir,
      name: "fmt",
      hostname: "web-01",
      sizeMiB: 32,
      osRelease: {
        id: "debian",
        name: "Debian GNU/Linux",
        versionId: "12",
        prettyName: "Debian GNU/Linux 12 (bookworm)",
      },
      formats: ["raw", "qcow2", "vmdk", "vhdx"],
      extraFiles: { "/etc/motd": "hello from hangar\n", "/opt/app/config.ini": "[app]\n" },
    });
    for (const [format, file] of [
      ["raw", guest.raw],
      ["qcow2", guest.qcow2],
      ["vmdk", guest.vmdk],
      ["vhdx", guest.vhdx],
    ] as const) {
      expect(file).toBe(path.join(dir, `fmt.${format}`));
      const { stdout } = await run("qemu-img", ["info", "--output=json", "-f", format, file!]);
      const info = JSON.parse(stdout) as {
        format: string;
        "virtual-size": number;
        "backing-filename"?: string;
        "format-specific"?: { data?: { "create-type"?: string } };
      };
      expect(info.format).toBe(format);
      expect(info["virtual-size"]).toBe(32 * 1024 * 1024);
      expect(info["backing-filename"]).toBeUndefined();
      if (format === "vmdk") expect(info["format-specific"]?.data?.["create-type"]).toBe("monolithicSparse");
    }
    // Only the disks are left behind: the root folder and debugfs script are gone.
    expect((await readdir(dir)).sort()).toEqual(["fmt.qcow2", "fmt.raw", "fmt.vhdx", "fmt.vmdk"]);

    expect(await debugfs(guest.raw, "cat /etc/os-release")).toBe(
      'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    );
    expect(await debugfs(guest.raw, "cat /etc/hostname")).toBe("web-01\n");
    expect(await debugfs(guest.raw, "cat /etc/motd")).toBe("hello from hangar\n");
    expect(await debugfs(guest.raw, "cat /opt/app/config.ini")).toBe("[app]\n");
    expect(await debugfs(guest.raw, "cat /etc/passwd")).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh$/m);
    expect(await debugfs(guest.raw, "cat /etc/fstab")).toMatch(/^LABEL=root \/ ext4/m);

    const sh = await debugfs(guest.raw, "stat /bin/sh");
    expect(sh).toMatch(/Type: symlink/);
    expect(sh).toMatch(/Fast link dest: "busybox"/);
    expect(await debugfs(guest.raw, "stat /sbin/init")).toMatch(/Fast link dest: "\.\.\/bin\/busybox"/);
    expect(await debugfs(guest.raw, "stat /usr/bin/[")).toMatch(/Fast link dest: "\.\.\/\.\.\/bin\/busybox"/);
    const busybox = await debugfs(guest.raw, "stat /bin/busybox");
    expect(busybox).toMatch(/Type: regular\s+Mode:\s+0755/);
    expect(busybox).toContain(`Size: ${(await stat("/bin/busybox")).size}`);
    const shadow = await debugfs(guest.raw, "stat /etc/shadow");
    expect(shadow).toMatch(/Mode:\s+0640/);
    expect(shadow).toMatch(/User:\s+0\s+Group:\s+0/);
    const { stdout: fileType } = await run("file", ["-b", "/bin/busybox"]);
    expect(fileType).toMatch(/statically linked/);
    const { stdout: label } = await run("e2label", [guest.raw]);
    expect(label.trim()).toBe("root");
  });

  it("quotes os-release values the way the format requires", async () => {
    const guest = await buildTinyGuest({
      dir: await tempDir(),
      formats: ["raw"],
      osRelease: { id: "odd", name: 'Odd "Linux"', versionId: "1", prettyName: "Odd $HOME `x` \\ 1" },
    });
    const osRelease = await debugfs(guest.raw, "cat /etc/os-release");
    expect(osRelease).toContain('NAME="Odd \\"Linux\\""\n');
    expect(osRelease).toContain('PRETTY_NAME="Odd \\$HOME \\`x\\` \\\\ 1"\n');
  });

  it("refuses names and extra files that would land outside its folders", async () => {
    const dir = await tempDir();
    await expect(buildTinyGuest({ dir, name: "../escape" })).rejects.toThrow(/plain file name/);
    await expect(buildTinyGuest({ dir, extraFiles: { "etc/relative": "x" } })).rejects.toThrow(/absolute guest path/);
    await expect(buildTinyGuest({ dir, extraFiles: { '/etc/"quoted"': "x" } })).rejects.toThrow(/absolute guest path/);
    // `..` is resolved inside the guest, as the guest's own kernel would, so it cannot climb out.
    const guest = await buildTinyGuest({ dir, formats: ["raw"], extraFiles: { "/../../etc/climbed": "inside\n" } });
    expect(await debugfs(guest.raw, "cat /etc/climbed")).toBe("inside\n");
    expect((await readdir(dir)).sort()).toEqual(["tiny-guest.raw"]);
  });

  it("gives the same bytes for the same inputs, even built seconds apart, and different bytes for different ones", async () => {
    const a = await buildTinyGuest({ dir: await tempDir(), name: "same", formats: ["raw", "qcow2"] });
    // Host file ctimes move with the clock; the build must not carry them into the image.
    await sleep(1100);
    const b = await buildTinyGuest({ dir: await tempDir(), name: "same", formats: ["raw", "qcow2"] });
    const c = await buildTinyGuest({ dir: await tempDir(), name: "other", formats: ["raw"] });
    expect((await hashFile(a.raw)).sha256).toBe((await hashFile(b.raw)).sha256);
    expect((await hashFile(a.qcow2!)).sha256).toBe((await hashFile(b.qcow2!)).sha256);
    expect((await hashFile(a.raw)).sha256).not.toBe((await hashFile(c.raw)).sha256);
    expect((await stat(a.raw)).size).toBe(64 * 1024 * 1024);
  });
});
