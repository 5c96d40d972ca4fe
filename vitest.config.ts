import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".next/**", ".hangar/**", "e2e/**"],
    globalSetup: ["tests/global-setup.ts", "tests/swift-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Files share one database and data directory, and start-up reconciliation is global by
    // design: run files one at a time so no test sees another's half-finished import.
    fileParallelism: false,
  },
});
