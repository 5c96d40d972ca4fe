import { defineConfig } from "@playwright/test";
import { APP_ORIGIN, appEnv } from "./e2e/env";

// Debian's Chromium, never a downloaded browser; the flags keep it off the closed network.
export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: "reports/playwright.json" }]],
  globalSetup: "./e2e/global-setup.ts",
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
    command: "npx tsx scripts/start.ts",
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
