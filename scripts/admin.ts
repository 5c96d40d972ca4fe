// `npm run admin -- <command>`: the operator's command (see lib/cli/admin.ts). It talks to the
// database directly: DATABASE_URL, or the embedded PostgreSQL in HANGAR_DATA_DIR — the one a
// running Hangar serves when there is one (PostgreSQL's own lock keeps a data directory to one
// server), else started for this command and stopped after it.
import path from "node:path";
import { closeDb } from "../db/client";
import { runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { EXIT, helpText, resolve, type AdminIo } from "../lib/cli/admin";
import { readEnv } from "../lib/env";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new Error(
      '--password-stdin reads the password from a pipe, e.g. `printf %s "$PASSWORD" | npm run admin -- user create ...`.',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  const resolved = resolve(process.argv.slice(2));
  if (resolved.kind === "help") {
    console.log(helpText());
    return EXIT.ok;
  }
  if (resolved.kind === "usage") {
    console.error(resolved.message);
    return EXIT.usage;
  }
  let config;
  try {
    config = readEnv();
  } catch (error) {
    console.error((error as Error).message);
    return EXIT.usage;
  }
  let embedded: EmbeddedDatabase | undefined;
  try {
    let url = config.DATABASE_URL;
    if (!url) {
      const running = await runningEmbeddedPostgres(config.dataDir);
      if (running) {
        url = running.url;
      } else {
        console.error(
          `[admin] Starting the embedded PostgreSQL in ${path.join(config.dataDir, "pg")} for this command...`,
        );
        embedded = await startEmbeddedPostgres({
          dataDir: config.dataDir,
          log: (line) => console.error(`[admin] ${line}`),
        });
        url = embedded.url;
      }
    }
    process.env.DATABASE_URL = url;
    await applyMigrations(url);
    const io: AdminIo = { out: (line) => console.log(line), err: (line) => console.error(line), readStdin };
    return await resolved.run(io);
  } catch (error) {
    console.error(`The command failed: ${(error as Error).message}`);
    return EXIT.refused;
  } finally {
    await closeDb().catch(() => {});
    await embedded?.stop().catch((error) => console.error(error));
  }
}

void main().then((code) => process.exit(code));
