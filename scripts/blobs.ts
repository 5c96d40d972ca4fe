// `npm run blobs -- <command>`: the operator's blob-store commands (see lib/cli/blobs.ts). Like
// `npm run admin`, it uses DATABASE_URL, or the embedded PostgreSQL in HANGAR_DATA_DIR (the one a
// running Hangar serves when there is one, else started for this command and stopped after it).
import path from "node:path";
import { closeDb } from "../db/client";
import { runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { EXIT, helpText, resolve, type BlobsIo } from "../lib/cli/blobs";
import { readEnv } from "../lib/env";

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
          `[blobs] Starting the embedded PostgreSQL in ${path.join(config.dataDir, "pg")} for this command...`,
        );
        embedded = await startEmbeddedPostgres({
          dataDir: config.dataDir,
          log: (line) => console.error(`[blobs] ${line}`),
        });
        url = embedded.url;
      }
    }
    process.env.DATABASE_URL = url;
    await applyMigrations(url);
    const io: BlobsIo = {
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      // The bar goes to standard error, so standard output (the summary, --json) stays clean for a pipe.
      progress: {
        tty: process.stderr.isTTY ? process.stderr : null,
        line: (line) => console.error(line),
      },
    };
    return await resolved.run(io);
  } catch (error) {
    console.error(`The command failed: ${(error as Error).message}`);
    return EXIT.problems;
  } finally {
    await closeDb().catch(() => {});
    await embedded?.stop().catch((error) => console.error(error));
  }
}

void main().then((code) => process.exit(code));
