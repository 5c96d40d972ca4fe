// Where each content job's private files live (libguestfs's temporary overlays and sockets, a boot
// test's qcow2 overlay): the job removes its directory however it ends, and the stale-worker sweep
// (lib/builds/sweeper.ts) removes a dead worker's.
import path from "node:path";
import { env } from "@/lib/env";

export function contentScanWorkDir(sha256: string): string {
  return path.join(env().dataDir, "content-scans", sha256);
}

export function diffWorkDir(diffId: string): string {
  return path.join(env().dataDir, "diffs", diffId);
}

export function bootTestWorkDir(bootTestId: string): string {
  return path.join(env().dataDir, "boot-tests", bootTestId);
}
