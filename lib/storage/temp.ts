// Temp files live under the data directory, not the OS temp folder, so moving one into the blob
// store is a same-filesystem rename and start-up reconciliation knows where leftovers are. A
// registered process writes into a folder named by its id: the folder goes once that process is
// dead (lib/processes/scratch.ts), never while it lives, however long one file takes.
import { randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import { currentProcessId } from "@/lib/processes/identity";

/** The folder holding in-progress files for the data directory `root`. */
export function tempDir(root: string): string {
  return path.join(path.resolve(root), "tmp");
}

/** `<root>/tmp/<process id>/` (or `<root>/tmp/` outside the registry), made private; a fresh random name in it. */
async function newTempName(root: string, prefix: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(prefix))
    throw new Error(`temp file prefix ${JSON.stringify(prefix)} must be 1-32 lowercase letters, digits or dashes`);
  const owner = currentProcessId();
  const dir = owner ? path.join(tempDir(root), owner) : tempDir(root);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `${prefix}-${randomBytes(12).toString("hex")}`);
}

/** Creates an empty private (0600) file under `<root>/tmp/<process id>/` (or `<root>/tmp/` outside the registry) and returns its path. */
export async function createTempPath({ root, prefix }: { root: string; prefix: string }): Promise<string> {
  const file = await newTempName(root, prefix);
  // O_EXCL: the name is random, but never write into a file someone else made.
  const handle = await open(file, "wx", 0o600);
  await handle.close();
  return file;
}

/** Creates an empty private (0700) folder beside createTempPath's files and returns its path. */
export async function createTempFolder({ root, prefix }: { root: string; prefix: string }): Promise<string> {
  const dir = await newTempName(root, prefix);
  // Not recursive: mkdir fails if the random name exists, so the folder is never someone else's.
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * Writes a file's data to disk and resolves when it is there, or when that failed: this never
 * rejects, because the fsync that makes the file durable (the blob store's) reports errors. Started
 * early, it overlaps work that does not need the disk.
 */
export async function flushToDisk(file: string): Promise<void> {
  try {
    const handle = await open(file, "r");
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch {
    // Reported, if it matters, by the fsync that makes the file durable.
  }
}
