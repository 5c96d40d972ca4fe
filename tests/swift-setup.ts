// Gives the test run a folder where the first test file that needs Swift starts the shared one
// (tests/swift.ts), and stops it when the run ends. Runs that need no Swift start none.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SHARED_SWIFT_DIR_VARIABLE, stopSharedSwift } from "./swift";

export default async function setup() {
  const runDir = await mkdtemp(path.join(os.tmpdir(), "hangar-test-swift-"));
  process.env[SHARED_SWIFT_DIR_VARIABLE] = runDir;
  return async () => {
    await stopSharedSwift(runDir);
  };
}
