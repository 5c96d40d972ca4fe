// `npm run bench` runs every benchmark; `npm run bench -- <name>` runs one. A benchmark prints its
// table and writes bench/results/<name>.json; a missed target is reported, not an error. Adding a
// benchmark is adding bench/<name>.ts with `export async function run(): Promise<BenchRow[]>` here.
import { printRows, writeResults, type BenchRow } from "./report";

const benchmarks: Record<string, () => Promise<BenchRow[]>> = {
  catalog: async () => (await import("./catalog")).run(),
  import: async () => (await import("./import")).run(),
  build: async () => (await import("./build")).run(),
  clone: async () => (await import("./clone")).run(),
  signin: async () => (await import("./signin")).run(),
  load: async () => (await import("./load")).run(),
  content: async () => (await import("./content")).run(),
  feeds: async () => (await import("./feeds")).run(),
  scale: async () => (await import("./scale")).run(),
  api: async () => [
    ...(await (await import("./api-list")).apiListRows()),
    ...(await (await import("./api-webhook")).webhookRows()),
    ...(await (await import("./api-cli")).cliRows()),
  ],
};

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const unknown = requested.filter((name) => !(name in benchmarks));
if (unknown.length) {
  console.error(`Unknown benchmark: ${unknown.join(", ")}. Available: ${Object.keys(benchmarks).join(", ")}.`);
  process.exit(2);
}
for (const name of requested.length ? requested : Object.keys(benchmarks)) {
  console.log(`\n== ${name} ==`);
  const rows = await benchmarks[name]!();
  printRows(name, rows);
  console.log(`wrote ${await writeResults(name, rows)}`);
}
process.exit(0);
