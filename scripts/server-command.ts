// How a server-side operator command (`npm run admin`, `npm run blobs`) runs: its command line is
// parsed before anything is opened; then the database is DATABASE_URL, or the embedded PostgreSQL
// in HANGAR_DATA_DIR — the one a running Hangar serves when there is one (PostgreSQL's own lock keeps
// a data directory to one server), else started for this command and stopped after it.
import path from "node:path";
import { closeDb } from "../db/client";
import { runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { readEnv } from "../lib/env";
import type { ResolvedCommand } from "../lib/cli/server-command";

export async function runServerCommand<Io>({
  tag,
  resolved,
  helpText,
  io,
  exit,
}: {
  /** Prefixes what the command says about the database it starts, e.g. "admin". */
  tag: string;
  resolved: ResolvedCommand<Io>;
  helpText: () => string;
  io: Io;
  exit: { ok: number; usage: number; failed: number };
}): Promise<number> {
  if (resolved.kind === "help") {
    console.log(helpText());
    return exit.ok;
  }
  if (resolved.kind === "usage") {
    console.error(resolved.message);
    return exit.usage;
  }
  let config;
  try {
    config = readEnv();
  } catch (error) {
    console.error((error as Error).message);
    return exit.usage;
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
          `[${tag}] Starting the embedded PostgreSQL in ${path.join(config.dataDir, "pg")} for this command...`,
        );
        embedded = await startEmbeddedPostgres({
          dataDir: config.dataDir,
          log: (line) => console.error(`[${tag}] ${line}`),
        });
        url = embedded.url;
      }
    }
    process.env.DATABASE_URL = url;
    await applyMigrations(url);
    return await resolved.run(io);
  } catch (error) {
    console.error(`The command failed: ${(error as Error).message}`);
    return exit.failed;
  } finally {
    await closeDb().catch(() => {});
    await embedded?.stop().catch((error) => console.error(error));
  }
}
