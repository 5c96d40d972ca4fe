// A real Debian guest with a package manager, for the build tests that install packages: a minbase
// bookworm root from this machine's configured Debian mirror (debootstrap), in a whole-disk ext4,
// as qcow2. Building it takes a minute or more, so it is built once per machine and kept under the
// temp folder, keyed by CACHE_VERSION; a half-built one is never used (it is renamed into place).
import { execFile } from "node:child_process";
import { access, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { aptSourceUris } from "@/lib/builds/mirrors";

const run = promisify(execFile);
const CACHE_VERSION = "bookworm-minbase-v1";

/** The machine's Debian mirror (not its security archive); deb.debian.org when none is configured. */
export function debianMirror(): string {
  return aptSourceUris().find((uri) => /\/debian\/?$/.test(uri)) ?? "http://deb.debian.org/debian";
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
