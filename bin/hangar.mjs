#!/usr/bin/env node
// The `hangar` command from a checkout (`npx hangar …`). The TypeScript CLI is bundled once with
// esbuild (tsx's own dependency) into node_modules/.cache/hangar/ and run in this process:
// compiling it on every start (tsx in a child process) cost a second or more per command, which
// a script calling hangar in a loop, and `hangar pull` against curl, would pay each time. Code only
// one command needs (the inspector, and zod with the server's settings) is split into chunks loaded
// when that command runs: importing zod alone took a tenth of a second. The bundle is rebuilt when
// any file it was made from is newer than it. Each build goes to a folder of its own, named by a
// pointer file that is replaced in one rename, so two commands starting at once never run half a build.
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = path.join(root, "node_modules/.cache/hangar");
const pointerFile = path.join(cacheDir, "cli.json");

/** The entry file of the current build, if no file it was made from has changed since. */
async function freshEntry() {
  const pointer = JSON.parse(await readFile(pointerFile, "utf8").catch(() => "null"));
  if (!pointer?.inputs?.length || typeof pointer.dir !== "string") return null;
  const entry = path.join(cacheDir, pointer.dir, "main.mjs");
  const built = await stat(entry).catch(() => null);
  if (!built) return null;
  for (const input of pointer.inputs) {
    const source = await stat(path.join(root, input)).catch(() => null);
    if (!source || source.mtimeMs > built.mtimeMs) return null;
  }
  return entry;
}

async function build() {
  const require = createRequire(createRequire(import.meta.url).resolve("tsx"));
  const esbuild = require("esbuild");
  await mkdir(cacheDir, { recursive: true });
  const dir = `cli-${Date.now()}-${process.pid}`;
  const result = await esbuild.build({
    entryPoints: { main: path.join(root, "lib/cli/main.ts") },
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    outdir: path.join(cacheDir, dir),
    outExtension: { ".js": ".mjs" },
    metafile: true,
    logLevel: "silent",
  });
  const temp = `${pointerFile}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify({ dir, inputs: Object.keys(result.metafile.inputs) }));
  await rename(temp, pointerFile);
  // Builds older than a day are no longer run by anyone; newer ones may still be loading a chunk.
  for (const name of await readdir(cacheDir)) {
    const match = /^cli-(\d+)-\d+$/.exec(name);
    if (match && name !== dir && Date.now() - Number(match[1]) > 24 * 3600 * 1000)
      await rm(path.join(cacheDir, name), { recursive: true, force: true });
  }
  return path.join(cacheDir, dir, "main.mjs");
}

const entry =
  (await freshEntry()) ??
  (await build().catch(
    // A checkout this user may not write to (or a bundle esbuild could not make): compile on the
    // fly instead, slower to start; a real error in the code then shows as tsx reports it.
    () => null,
  ));
if (entry) await import(pathToFileURL(entry).href);
else {
  process.env.TSX_TSCONFIG_PATH ??= path.join(root, "tsconfig.json");
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(path.join(root, "lib/cli/main.ts")).href);
}
