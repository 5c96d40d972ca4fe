#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, resolved from this package, so `npx hangar` works from a checkout.
// Signals sent to this process alone (a supervisor, `kill`) are passed on, so an interrupted push
// can stop cleanly and say how to resume.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsx = createRequire(import.meta.url).resolve("tsx");
const child = spawn(process.execPath, ["--import", tsx, path.join(root, "lib/cli/main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, "tsconfig.json") },
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + (signal === "SIGINT" ? 2 : 15) : 2)));
