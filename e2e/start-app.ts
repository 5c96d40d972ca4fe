// The browser tests' web server with E2E_BLOB_STORE=s3: starts a one-node Swift (tests/swift.ts)
// with a bucket, runs `npm start`'s script against it (HANGAR_BLOB_STORE=s3), and stops Swift once
// the app has exited. Playwright starts its webServer before its global setup and signals the whole
// process group on teardown, so the bucket's lifetime has to wrap the app's here. Swift's objects
// stay in E2E_SWIFT_DIR as the app's data stays in E2E_DATA_DIR: a later run on the same data
// folder (one spec at a time) finds the blobs its database names.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { startSwift, stopSwift, swiftClient } from "../tests/swift";
import { E2E_SWIFT_DIR } from "./env";

const BUCKET = "hangar-e2e";

const groupsFile = path.join(E2E_SWIFT_DIR, "groups.json");
// A run killed before its teardown leaves its servers: their process groups are on disk (and only
// then: a clean stop removes the file, so no later process reusing those ids is signalled).
if (existsSync(groupsFile)) {
  const groups = JSON.parse(await readFile(groupsFile, "utf8")) as number[];
  await stopSwift({ groups, dir: E2E_SWIFT_DIR }, { keepDir: true });
}
const swift = await startSwift({ dir: E2E_SWIFT_DIR });
let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= stopSwift(swift, { keepDir: true }).then(() => rm(groupsFile, { force: true })));

try {
  const client = swiftClient(swift);
  try {
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  } catch (error) {
    if ((error as Error).name !== "BucketAlreadyOwnedByYou") throw error;
  } finally {
    client.destroy();
  }
  const app = spawn("npx", ["tsx", "scripts/start.ts"], {
    stdio: "inherit",
    env: {
      ...process.env,
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_ENDPOINT: swift.endpoint,
      HANGAR_S3_REGION: swift.region,
      HANGAR_S3_BUCKET: BUCKET,
      HANGAR_S3_ACCESS_KEY_ID: swift.accessKeyId,
      HANGAR_S3_SECRET_ACCESS_KEY: swift.secretAccessKey,
      // A prefix, as a shared bucket would have: no code may assume a key is the bare checksum.
      HANGAR_S3_PREFIX: "hangar/blobs/",
    },
  });
  // The app is in this process's group, so Playwright's SIGTERM reaches it directly; this process
  // only outlives it to stop Swift.
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => {});
  const code = await new Promise<number>((resolve) =>
    app.once("exit", (exit, signal) => resolve(exit ?? (signal ? 1 : 0))),
  );
  await stop();
  process.exit(code);
} catch (error) {
  await stop();
  throw error;
}
