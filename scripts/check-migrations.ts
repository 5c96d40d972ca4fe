// Fails when the committed migrations don't match the schema: `drizzle-kit check` only checks that
// the migration snapshots agree with each other, so this also runs `drizzle-kit generate` against a
// throwaway copy of the migrations folder and fails if it would write a new migration. Judged by the
// files generate writes, because drizzle-kit can exit 0 after printing an error. The schema path and
// every other option come from drizzle.config.ts, so moving the schema needs no change here.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import drizzleConfig from "../drizzle.config";

const root = path.resolve(import.meta.dirname, "..");
const migrations = path.resolve(root, drizzleConfig.out ?? "drizzle");
const work = mkdtempSync(path.join(os.tmpdir(), "hangar-migrations-"));
const copy = path.join(work, "migrations");

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

function drizzleKit(command: string, config: string): string {
  const result = spawnSync("npx", ["drizzle-kit", command, "--config", config], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"], // a rename prompt would wait forever; with no input it ends
    timeout: 120_000,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.error) throw new Error(`drizzle-kit ${command} did not finish: ${result.error.message}\n${output}`);
  if (result.status !== 0) throw new Error(`drizzle-kit ${command} failed (exit ${result.status}):\n${output}`);
  return output;
}

let problem: string | null = null;
try {
  cpSync(migrations, copy, { recursive: true });
  const config = path.join(work, "drizzle.config.ts");
  writeFileSync(
    config,
    `import base from ${JSON.stringify(path.join(root, "drizzle.config.ts"))};\n` +
      // drizzle-kit reads `out` relative to the working directory, even when it is absolute.
      `export default { ...base, out: ${JSON.stringify(path.relative(root, copy))} };\n`,
  );
  const before = files(copy);
  const journal = readFileSync(path.join(copy, "meta", "_journal.json"), "utf8");

  drizzleKit("check", config);
  const generated = drizzleKit("generate", config);

  const added = files(copy).filter((file) => !before.includes(file));
  const journalChanged = readFileSync(path.join(copy, "meta", "_journal.json"), "utf8") !== journal;
  if (added.length > 0 || journalChanged) {
    const sql = added
      .filter((file) => file.endsWith(".sql"))
      .map((file) => readFileSync(path.join(copy, file), "utf8"));
    problem =
      `The schema (${drizzleConfig.schema}) and ${path.relative(root, migrations)} disagree: ` +
      `drizzle-kit generate would add ${added.join(", ") || "a journal entry"}.\n` +
      `Run \`npm run db:generate\`, review the new migration and commit it.\n\n${sql.join("\n")}`;
  } else if (!/No schema changes/i.test(generated)) {
    problem = `drizzle-kit generate wrote no migration yet did not say "No schema changes" (it can exit 0 after an error):\n${generated}`;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (problem) {
  console.error(problem);
  process.exit(1);
}
console.log(`Migrations match the schema (${drizzleConfig.schema}).`);
