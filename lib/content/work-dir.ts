// Where a content scan's private files live (libguestfs's temporary overlay and sockets); the scan
// removes it however it ends, and the stale-worker sweep removes a dead worker's.
import path from "node:path";
import { env } from "@/lib/env";

export function contentScanWorkDir(sha256: string): string {
  return path.join(env().dataDir, "content-scans", sha256);
}
