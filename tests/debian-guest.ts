// A real Debian guest with a package manager, for the build tests that install packages: a minbase
// bookworm root from this machine's configured Debian mirror (debootstrap), in a whole-disk ext4,
// as qcow2. Building it takes a minute or more, so it is built once per machine and kept under the
// temp folder, keyed by CACHE_VERSION; a half-built one is never used (it is renamed into place).
import { execFile } from "node:child_process";
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { aptSourceUris } from "@/lib/builds/mirrors";

const run = promisify(execFile);
const CACHE_VERSION = "bookworm-minbase-v2";

/** The machine's Debian mirror (not its security archive); deb.debian.org when none is configured. */
export function debianMirror(): string {
  return aptSourceUris().find((uri) => /\/debian\/?$/.test(uri)) ?? "http://deb.debian.org/debian";
}

/** The package list `dpkg-query -W` printed inside the chroot at build time, saved next to the disk. */
export async function debianGuestPackages(): Promise<{ name: string; version: string }[]> {
  const disk = await debianGuest();
  const text = await readFile(path.join(path.dirname(disk), "dpkg-query.txt"), "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name, version] = line.split(" ");
      return { name: name!, version: version! };
    });
}

export async function debianGuest(): Promise<string> {
  const dir = path.join(os.tmpdir(), `hangar-debian-${CACHE_VERSION}`);
  const disk = path.join(dir, "disk.qcow2");
  try {
    await access(disk);
    return disk;
  } catch {
    // not built yet
  }
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(path.join(dir, "building-"));
  try {
    const root = path.join(work, "root");
    await run("debootstrap", ["--variant=minbase", "bookworm", root, debianMirror()], { timeout: 900_000 });
    // What the package manager itself says is installed, for tests that compare with an inspection.
    const { stdout } = await run("chroot", [root, "dpkg-query", "-W", "-f", "${Package} ${Version}\n"]);
    await writeFile(path.join(dir, "dpkg-query.txt"), stdout);
    const raw = path.join(work, "disk.raw");
    await run("truncate", ["-s", "1G", raw]);
    await run("mkfs.ext4", ["-q", "-F", "-L", "root", "-d", root, raw]);
    await run("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, path.join(work, "disk.qcow2")]);
    await rename(path.join(work, "disk.qcow2"), disk);
    return disk;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
