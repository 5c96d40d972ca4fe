#!/usr/bin/env node
// The `hangar` command from a checkout (`npx hangar …`). The TypeScript CLI is bundled once with
// esbuild (tsx's own dependency) into node_modules/.cache/hangar/cli.mjs and run in this process:
// compiling it on every start (tsx in a child process) cost a second or more per command, which
// a script calling hangar in a loop, and `hangar pull` against curl, would pay each time. The bundle
// is rebuilt when any file it was made from is newer than it; a new one is written beside it and
// renamed into place, so two commands starting at once never run half a file.
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = path.join(root, "node_modules/.cache/hangar");
const bundle = path.join(cacheDir, "cli.mjs");
const inputsFile = path.join(cacheDir, "cli-inputs.json");

async function isFresh() {
  const built = await stat(bundle).catch(() => null);
  if (!built) return false;
  const inputs = JSON.parse(await readFile(inputsFile, "utf8").catch(() => "[]"));
  if (!inputs.length) return false;
  for (const input of inputs) {
    const source = await stat(path.join(root, input)).catch(() => null);
    if (!source || source.mtimeMs > built.mtimeMs) return false;
  }
  return true;
}

async function build() {
  const require = createRequire(createRequire(import.meta.url).resolve("tsx"));
  const esbuild = require("esbuild");
  await mkdir(cacheDir, { recursive: true });
  const temp = `${bundle}.${process.pid}.tmp`;
  const result = await esbuild.build({
    entryPoints: [path.join(root, "lib/cli/main.ts")],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    outfile: temp,
    metafile: true,
    logLevel: "silent",
  });
  await writeFile(`${inputsFile}.${process.pid}.tmp`, JSON.stringify(Object.keys(result.metafile.inputs)));
  await rename(`${inputsFile}.${process.pid}.tmp`, inputsFile);
  await rename(temp, bundle);
}

let fresh = await isFresh();
if (!fresh)
  fresh = await build().then(
    () => true,
    // A checkout this user may not write to (or a bundle esbuild could not make): compile on the
    // fly instead, slower to start; a real error in the code then shows as tsx reports it.
    () => false,
  );
if (fresh) await import(pathToFileURL(bundle).href);
else {
  process.env.TSX_TSCONFIG_PATH ??= path.join(root, "tsconfig.json");
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(path.join(root, "lib/cli/main.ts")).href);
}
