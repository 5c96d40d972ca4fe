// A real Debian 12 that boots to a login prompt on its serial console (lib/content/debian-image.ts),
// for boot tests, content inspection and the demo. Building it takes a few minutes, so it is built
// once per machine and kept under the temp folder, keyed by CACHE_VERSION. A half-built one is never
// used: the finished files are renamed into place together, and test files that ask at once wait
// for the one building it (a lock directory naming its process).
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildBootableDebian } from "@/lib/content/debian-image";
import { debianMirror } from "./debian-guest";

const CACHE_VERSION = "bookworm-bootable-v3";

export interface CachedBootableDebian {
  /** The qcow2 disk: never write to it (use it as a backing file or with -snapshot). */
  disk: string;
  /** `dpkg-query -W` of its root, one "name\tversion" line per package. */
  packagesFile: string;
}

function cacheDir(): string {
  return path.join(os.tmpdir(), `hangar-bootable-debian-${CACHE_VERSION}`);
}

async function ready(dir: string): Promise<CachedBootableDebian | null> {
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
  } catch {
    return false;
  }
}

/** Takes the build lock, or waits while a live process holds it; null once someone else finished. */
async function lock(dir: string): Promise<string | null> {
  const lockDir = path.join(dir, "lock");
  for (;;) {
    if (await ready(dir)) return null;
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, "pid"), String(process.pid));
      return lockDir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(path.join(lockDir, "pid"), "utf8").catch(() => "0"));
      if (pid && !alive(pid)) await rm(lockDir, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

let building: Promise<CachedBootableDebian> | undefined;

export function bootableDebian(): Promise<CachedBootableDebian> {
  building ??= (async () => {
    const dir = cacheDir();
    await mkdir(dir, { recursive: true });
    const held = await lock(dir);
    if (!held) return (await ready(dir))!;
    try {
      const cached = await ready(dir);
      if (cached) return cached;
      const work = await mkdtemp(path.join(dir, "building-"));
      try {
        const started = Date.now();
        const built = await buildBootableDebian({
          workDir: work,
          mirror: debianMirror(),
          log: (line) => {
            if (line.startsWith("[debian]")) console.log(line);
          },
        });
        const out = path.join(work, "out");
        await mkdir(out);
        await rename(built.disk, path.join(out, "disk.qcow2"));
        await writeFile(path.join(out, "packages.txt"), `${built.packages.join("\n")}\n`);
        await rename(out, path.join(dir, "ready"));
        console.log(`Built the bootable Debian fixture in ${Math.round((Date.now() - started) / 1000)} s`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      return (await ready(dir))!;
    } finally {
      await rm(held, { recursive: true, force: true });
    }
  })();
  building.catch(() => (building = undefined));
  return building;
}
