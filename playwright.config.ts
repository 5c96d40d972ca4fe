import { defineConfig } from "@playwright/test";
import { APP_ORIGIN, appEnv, E2E_BLOB_STORE } from "./e2e/env";

// Debian's Chromium, never a downloaded browser; the flags keep it off the closed network.
export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: `reports/playwright${E2E_BLOB_STORE === "s3" ? "-s3" : ""}.json` }]],
  globalSetup: "./e2e/global-setup.ts",
  outputDir: E2E_BLOB_STORE === "s3" ? "test-results-s3" : "test-results",
  // The content spec waits for the demo catalog's real Debian pipeline (build or cache, scan, boot
  // test, the hello build and its scan and boot test): it runs first and alone, and the other specs
  // run after it, so that pipeline's guests are not competing with theirs for the CPU.
  projects: [
    { name: "content", testMatch: /content\.spec\.ts$/ },
    {
      name: "app",
      // cluster.spec.ts starts web processes on a bucket of its own: it runs in the s3 run.
      testIgnore: E2E_BLOB_STORE === "s3" ? /content\.spec\.ts$/ : /(content|cluster)\.spec\.ts$/,
      dependencies: ["content"],
    },
  ],
  use: {
    baseURL: APP_ORIGIN,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: E2E_BLOB_STORE === "s3" ? "npx tsx e2e/start-app.ts" : "npx tsx scripts/start.ts",
    url: `${APP_ORIGIN}/sign-in`,
    timeout: 240_000,
    reuseExistingServer: false,
    env: appEnv,
    stdout: "pipe",
    stderr: "pipe",
    // SIGTERM, like a service manager: Hangar ends running builds and kills their process groups
    // before it exits (Playwright's default, SIGKILL, leaves that to the groups' watchers).
    gracefulShutdown: { signal: "SIGTERM", timeout: 60_000 },
  },
});
