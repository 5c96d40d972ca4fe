// A tiny but real Linux guest disk, built locally in about a second with no downloads: a static
// busybox root filesystem in ext4, converted with qemu-img. Tests, the demo seed and build tests use
// it wherever a real image is needed. Same inputs give the same bytes (fixed UUIDs and times).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, readdir, rm, symlink, utimes, writeFile, copyFile, lutimes } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BUSYBOX = "/bin/busybox";
const FIXED_TIME = 1_700_000_000;

export type TinyGuestFormat = "raw" | "qcow2" | "vmdk" | "vhdx";

export interface OsRelease {
  id: string;
  name: string;
  versionId: string;
  prettyName: string;
}

export interface TinyGuest {
  raw: string;
  qcow2?: string;
  vmdk?: string;
  vhdx?: string;
  osRelease: OsRelease;
}

const qemuFormat: Record<Exclude<TinyGuestFormat, "raw">, { format: string; options: string[] }> = {
  qcow2: { format: "qcow2", options: [] },
  vmdk: { format: "vmdk", options: ["-o", "subformat=monolithicSparse"] },
  vhdx: { format: "vhdx", options: [] },
};

function uuidFrom(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function setTimesRecursively(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    const full = path.join(dir, entry);
    const info = await lstat(full);
    if (info.isDirectory()) await setTimesRecursively(full);
    await lutimes(full, FIXED_TIME, FIXED_TIME);
  }
  await utimes(dir, FIXED_TIME, FIXED_TIME);
}

export async function buildTinyGuest({
  dir,
  name = "tiny-guest",
  hostname = "tiny-guest",
  osRelease = { id: "busybox", name: "Busybox Linux", versionId: "1", prettyName: "Busybox Linux 1" },
  sizeMiB = 64,
  formats = ["raw", "qcow2"],
  extraFiles = {},
}: {
  dir: string;
  name?: string;
  hostname?: string;
  osRelease?: OsRelease;
  sizeMiB?: number;
  formats?: TinyGuestFormat[];
  extraFiles?: Record<string, string>;
}): Promise<TinyGuest> {
  await mkdir(dir, { recursive: true });
  const root = path.join(dir, `${name}-root`);
  await rm(root, { recursive: true, force: true });
  try {
    for (const folder of ["bin", "sbin", "etc", "root", "tmp", "proc", "sys", "dev", "var/log", "usr/bin", "home"]) {
      await mkdir(path.join(root, folder), { recursive: true });
    }
    await copyFile(BUSYBOX, path.join(root, "bin/busybox"));
    await chmod(path.join(root, "bin/busybox"), 0o755);
    const { stdout } = await run(BUSYBOX, ["--list"]);
    const applets = stdout.split("\n").filter((applet) => /^[a-z0-9_.\[-]+$/.test(applet) && applet !== "busybox");
    for (const applet of applets) await symlink("busybox", path.join(root, "bin", applet)).catch(() => {});
    for (const applet of ["init", "mount", "umount", "halt", "reboot", "poweroff", "mdev"]) {
      await symlink("../bin/busybox", path.join(root, "sbin", applet)).catch(() => {});
    }
    const files: Record<string, string> = {
      "/etc/os-release": `NAME="${osRelease.name}"\nID=${osRelease.id}\nVERSION_ID="${osRelease.versionId}"\nPRETTY_NAME="${osRelease.prettyName}"\n`,
      "/etc/hostname": `${hostname}\n`,
      "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
      "/etc/shadow": "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
      "/etc/group": "root:x:0:\nnogroup:x:65534:\n",
      "/etc/fstab": "LABEL=root / ext4 defaults 0 1\n",
      ...extraFiles,
    };
    for (const [file, content] of Object.entries(files)) {
      const target = path.join(root, file.replace(/^\/+/, ""));
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    await chmod(path.join(root, "etc/shadow"), 0o640);
    await setTimesRecursively(root);

    const raw = path.join(dir, `${name}.raw`);
    await rm(raw, { force: true });
    await run("truncate", ["-s", `${sizeMiB}M`, raw]);
    const uuid = uuidFrom(name);
    await run("mkfs.ext4", ["-q", "-F", "-L", "root", "-U", uuid, "-E", `root_owner=0:0,hash_seed=${uuid}`, "-d", root, raw], {
      env: { ...process.env, E2FSPROGS_FAKE_TIME: String(FIXED_TIME) },
    });
    const guest: TinyGuest = { raw, osRelease };
    for (const format of formats) {
      if (format === "raw") continue;
      const { format: qemu, options } = qemuFormat[format];
      const target = path.join(dir, `${name}.${format}`);
      await rm(target, { force: true });
      await run("qemu-img", ["convert", "-q", "-f", "raw", "-O", qemu, ...options, raw, target]);
      guest[format] = target;
    }
    return guest;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
