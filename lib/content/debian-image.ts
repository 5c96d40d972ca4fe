// A real, bootable Debian 12 disk made from Debian's own packages, for the demo catalog and the
// tests that need an OS that boots: a minbase bookworm root with a kernel, systemd and udev
// (debootstrap from the configured mirror), in one ext4 partition of an MBR disk, with EXTLINUX as
// its bootloader and the kernel's console on the first serial port (systemd then starts a login
// prompt there). The file system is written on the host (`mke2fs -d` at the partition's offset, no
// loop device); only installing the bootloader needs a mounted file system, which is one
// libguestfs appliance launch. Root's password is locked, so nobody can log in.
import { randomUUID } from "node:crypto";
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { libguestfsEnv } from "@/lib/jobs/acceleration";
import { runInProcessGroup } from "@/lib/jobs/process-group";

export const BOOTABLE_DEBIAN_HOSTNAME = "hangar-debian";
/** Virtual size of the disk: the root takes a little over half of it. */
const DISK_BYTES = 1024 ** 3;
const PARTITION_OFFSET = 1024 ** 2;
/** Modules the initramfs needs to find the root on the disks QEMU offers (virtio, IDE, SATA, SCSI). */
const INITRAMFS_MODULES = [
  "virtio_pci",
  "virtio_blk",
  "virtio_scsi",
  "ata_piix",
  "ata_generic",
  "ahci",
  "sd_mod",
  "ext4",
  "crc32c_generic",
];
const MBR_CODE = ["/usr/lib/EXTLINUX/mbr.bin", "/usr/lib/syslinux/mbr/mbr.bin", "/usr/share/syslinux/mbr.bin"];

export interface BootableDebian {
  /** The qcow2 disk, in the work directory. */
  disk: string;
  /** `dpkg-query -W` run in the root: one "name\tversion" line per installed package. */
  packages: string[];
}

export interface BuildBootableDebianOptions {
  /** A private directory the build may fill (about 1.5 GB at its peak); the caller removes it. */
  workDir: string;
  /** A Debian mirror, such as http://deb.debian.org/debian. */
  mirror: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Runs one tool in its own process group; rejects with its last words when it fails. */
async function tool(
  command: string,
  args: string[],
  { signal, log, env }: { signal?: AbortSignal; log?: (line: string) => void; env?: Record<string, string> },
): Promise<string> {
  const run = runInProcessGroup(command, args, { signal, env });
  let stdout = "";
  let tail = "";
  run.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    for (const line of text.split("\n")) if (line.trim()) log?.(line);
  });
  run.stderr.setEncoding("utf8").on("data", (text: string) => {
    tail = (tail + text).slice(-2000);
    for (const line of text.split("\n")) if (line.trim()) log?.(line);
  });
  const code = await run.exit;
  if (signal?.aborted) throw signal.reason;
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${tail.trim().split("\n").slice(-3).join(" / ")}`);
  return stdout;
}

async function firstExisting(paths: string[]): Promise<string> {
  for (const candidate of paths) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(`no EXTLINUX master boot record found (install the extlinux package): looked at ${paths.join(", ")}`);
}

/**
 * Unmounts whatever debootstrap left mounted inside the root (/proc, /sys, device binds when it was
 * stopped half-way), deepest first, so that removing the root never reaches the host's files.
 */
async function releaseMounts(root: string): Promise<void> {
  const prefix = `${path.resolve(root)}/`;
  const mounts = (await readFile("/proc/mounts", "utf8").catch(() => ""))
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " ") ?? "")
    .filter((point) => point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await tool("umount", ["-l", point], {}).catch(() => {});
}

/** The newest kernel and its initramfs under the root's /boot, as paths inside the guest. */
async function kernelFiles(root: string): Promise<{ kernel: string; initrd: string }> {
  const names = await readdir(path.join(root, "boot"));
  const kernels = names.filter((name) => name.startsWith("vmlinuz-")).sort();
  const kernel = kernels.at(-1);
  if (!kernel) throw new Error("debootstrap installed no kernel under /boot");
  const initrd = `initrd.img-${kernel.slice("vmlinuz-".length)}`;
  if (!names.includes(initrd)) throw new Error(`the kernel ${kernel} has no ${initrd}`);
  return { kernel: `/boot/${kernel}`, initrd: `/boot/${initrd}` };
}

export async function buildBootableDebian({
  workDir,
  mirror,
  log,
  signal,
}: BuildBootableDebianOptions): Promise<BootableDebian> {
  const say = (line: string) => log?.(`[debian] ${line}`);
  const run = (command: string, args: string[], env?: Record<string, string>) =>
    tool(command, args, { signal, log, env });
  const mbr = await firstExisting(MBR_CODE);
  await mkdir(workDir, { recursive: true });
  const root = path.join(workDir, "root");
  await releaseMounts(root);
  await rm(root, { recursive: true, force: true });
  try {
    return await build({ root, workDir, mbr, mirror, run, say });
  } finally {
    await releaseMounts(root);
    await rm(root, { recursive: true, force: true });
  }
}

async function build({
  root,
  workDir,
  mbr,
  mirror,
  run,
  say,
}: {
  root: string;
  workDir: string;
  mbr: string;
  mirror: string;
  run: (command: string, args: string[], env?: Record<string, string>) => Promise<string>;
  say: (line: string) => void;
}): Promise<BootableDebian> {
  // Two stages, so that the initramfs is configured before the kernel's package makes one: with
  // Debian's default (every driver) that alone takes minutes, and it is made twice during the install.
  say(`debootstrap --variant=minbase bookworm from ${mirror}`);
  await run("debootstrap", [
    "--foreign",
    "--variant=minbase",
    "--include=linux-image-amd64,systemd-sysv,udev",
    "bookworm",
    root,
    mirror,
  ]);
  const write = (file: string, content: string, mode = 0o644) => writeFile(path.join(root, file), content, { mode });
  await mkdir(path.join(root, "etc/initramfs-tools/conf.d"), { recursive: true });
  await mkdir(path.join(root, "etc/initramfs-tools/hooks"), { recursive: true });
  await write("etc/initramfs-tools/conf.d/hangar", "MODULES=list\n");
  await write(
    "etc/initramfs-tools/hooks/hangar-disks",
    [
      "#!/bin/sh",
      "# Hangar: the drivers to find the root file system on the disks QEMU offers.",
      'case "$1" in prereqs) exit 0 ;; esac',
      ". /usr/share/initramfs-tools/hook-functions",
      `for module in ${INITRAMFS_MODULES.join(" ")}; do manual_add_modules "$module"; done`,
      "",
    ].join("\n"),
    0o755,
  );
  say("debootstrap's second stage: installing and configuring the packages");
  await run("chroot", [root, "/debootstrap/debootstrap", "--second-stage"]);

  say("Configuring: hostname, fstab, locked root");
  const uuid = randomUUID();
  await write("etc/hostname", `${BOOTABLE_DEBIAN_HOSTNAME}\n`);
  await write("etc/hosts", `127.0.0.1\tlocalhost\n127.0.1.1\t${BOOTABLE_DEBIAN_HOSTNAME}\n`);
  await write("etc/fstab", `UUID=${uuid}\t/\text4\terrors=remount-ro\t0\t1\n`);
  await run("chroot", [root, "passwd", "--lock", "root"]);
  // The serial login prompt must not hang on udev: Debian's serial-getty@.service waits (90 s at
  // most, then gives up for good) for udev to announce /dev/ttyS0, which a busy TCG host may not
  // manage in time. This instance starts as soon as the system is up; the kernel made the device.
  const template = await readFile(path.join(root, "lib/systemd/system/serial-getty@.service"), "utf8");
  await write(
    "etc/systemd/system/serial-getty@ttyS0.service",
    template
      .split("\n")
      .filter((line) => !line.startsWith("BindsTo="))
      .map((line) => (line.startsWith("After=") ? line.replace(/\s*dev-%i\.device/, "") : line))
      .join("\n"),
  );
  await mkdir(path.join(root, "etc/systemd/system/getty.target.wants"), { recursive: true });
  await rm(path.join(root, "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"), { force: true });
  await symlink(
    "/etc/systemd/system/serial-getty@ttyS0.service",
    path.join(root, "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"),
  );
  const packages = (await run("chroot", [root, "dpkg-query", "-W"])).split("\n").filter(Boolean);
  const { kernel, initrd } = await kernelFiles(root);
  await mkdir(path.join(root, "boot/extlinux"), { recursive: true });
  await write(
    "boot/extlinux/extlinux.conf",
    [
      "SERIAL 0 115200",
      "DEFAULT debian",
      "PROMPT 0",
      "TIMEOUT 0",
      "LABEL debian",
      `  LINUX ${kernel}`,
      `  INITRD ${initrd}`,
      `  APPEND root=UUID=${uuid} ro console=ttyS0,115200`,
      "",
    ].join("\n"),
  );
  // Downloaded .deb files and package lists are not part of the system.
  for (const dir of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
    for (const name of await readdir(path.join(root, dir)).catch(() => [] as string[]))
      if (name !== "partial" && name !== "lock") await rm(path.join(root, dir, name), { recursive: true, force: true });
  }

  say("Writing the disk: an MBR partition table, ext4 at 1 MiB, the EXTLINUX boot code");
  const raw = path.join(workDir, "disk.raw");
  await rm(raw, { force: true });
  await run("truncate", ["-s", String(DISK_BYTES), raw]);
  const table = path.join(workDir, "partitions.sfdisk");
  await writeFile(table, `label: dos\nstart=${PARTITION_OFFSET / 512}, type=83, bootable\n`);
  await run("sh", ["-c", 'sfdisk --no-reread --no-tell-kernel "$1" < "$2"', "sfdisk", raw, table]);
  // EXTLINUX reads ext4 without the 64bit feature; the rest are mke2fs's defaults.
  await run("mke2fs", [
    "-q",
    "-F",
    "-t",
    "ext4",
    "-O",
    "^64bit",
    "-L",
    "root",
    "-U",
    uuid,
    "-E",
    `offset=${PARTITION_OFFSET}`,
    "-d",
    root,
    raw,
    `${(DISK_BYTES - PARTITION_OFFSET) / 1024}k`,
  ]);
  await run("dd", [`if=${mbr}`, `of=${raw}`, "bs=440", "count=1", "conv=notrunc", "status=none"]);
  await releaseMounts(root);
  await rm(root, { recursive: true, force: true });

  say("Installing EXTLINUX into the partition (one libguestfs appliance launch)");
  await run(
    "guestfish",
    ["--rw", "--format=raw", "-a", raw, "--", "run", ":", "mount", "/dev/sda1", "/", ":", "extlinux", "/boot/extlinux"],
    await libguestfsEnv(),
  );

  const disk = path.join(workDir, "disk.qcow2");
  await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, disk]);
  await rm(raw, { force: true });
  say(`Done: ${packages.length} packages, ${Math.round((await stat(disk)).size / 1024 ** 2)} MiB qcow2`);
  return { disk, packages };
}

/** Bumped whenever buildBootableDebian makes a different disk, so an old cache is not reused. */
const CACHE_VERSION = "bookworm-bootable-v3";

export interface CachedBootableDebian {
  /** The qcow2 disk: never write to it (copy it, or use it as a backing file or with -snapshot). */
  disk: string;
  /** `dpkg-query -W` of its root, one "name\tversion" line per package. */
  packagesFile: string;
}

export interface CachedBootableDebianOptions {
  /** Where the machine-wide cache lives; the system's temp folder by default. */
  cacheRoot?: string;
  mirror: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

async function readyIn(dir: string): Promise<CachedBootableDebian | null> {
  const result = { disk: path.join(dir, "ready", "disk.qcow2"), packagesFile: path.join(dir, "ready", "packages.txt") };
  try {
    await stat(result.disk);
    await stat(result.packagesFile);
    return result;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/** Takes the build lock, or waits while a live process holds it; null once someone else finished. */
async function lockCache(dir: string, signal?: AbortSignal): Promise<string | null> {
  const lockDir = path.join(dir, "lock");
  for (;;) {
    if (await readyIn(dir)) return null;
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, "pid"), String(process.pid));
      return lockDir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(path.join(lockDir, "pid"), "utf8").catch(() => "0"));
      // A lock without a pid yet is being taken right now; one whose process is gone is stale.
      if (pid && !alive(pid)) await rm(lockDir, { recursive: true, force: true });
      else await sleep(2000, signal);
    }
  }
}

/** The cache's directory: the finished disk is under ready/, a build in progress under building-*. */
export function bootableDebianCacheDir(cacheRoot = os.tmpdir()): string {
  return path.join(cacheRoot, `hangar-bootable-debian-${CACHE_VERSION}`);
}

const building = new Map<string, Promise<CachedBootableDebian>>();

/**
 * The bootable Debian, built once per machine and kept under `cacheRoot` (keyed by CACHE_VERSION),
 * so a second fresh start of Hangar, the tests and the end-to-end run share one build. A half-built
 * one is never handed out: the finished files are renamed into place together, and processes that
 * ask at once wait for the one building it (a lock directory naming its process; a dead holder's
 * lock is taken over). Callers must not write to the returned disk: copy it first.
 */
export function cachedBootableDebian({
  cacheRoot = os.tmpdir(),
  mirror,
  log,
  signal,
}: CachedBootableDebianOptions): Promise<CachedBootableDebian> {
  const dir = bootableDebianCacheDir(cacheRoot);
  const existing = building.get(dir);
  if (existing) return existing;
  const promise = (async () => {
    await mkdir(dir, { recursive: true });
    const held = await lockCache(dir, signal);
    if (!held) return (await readyIn(dir))!;
    try {
      const cached = await readyIn(dir);
      if (cached) return cached;
      const work = await mkdtemp(path.join(dir, "building-"));
      try {
        const started = Date.now();
        const built = await buildBootableDebian({ workDir: work, mirror, log, signal });
        const out = path.join(work, "out");
        await mkdir(out);
        await rename(built.disk, path.join(out, "disk.qcow2"));
        await writeFile(path.join(out, "packages.txt"), `${built.packages.join("\n")}\n`);
        await rename(out, path.join(dir, "ready"));
        log?.(`[debian] Cached in ${dir} after ${Math.round((Date.now() - started) / 1000)} s`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      return (await readyIn(dir))!;
    } finally {
      await rm(held, { recursive: true, force: true });
    }
  })();
  building.set(dir, promise);
  // A failed or stopped build is not remembered: the next caller tries again.
  promise.catch(() => building.delete(dir));
  return promise;
}
