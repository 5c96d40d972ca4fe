// `npm run blobs -- <command>`: the operator's blob-store commands, built like `npm run admin`
// (lib/cli/admin.ts): parsing needs no database, exit statuses say what happened, --json for scripts.
import type { ResolvedCommand } from "./server-command";
import { parseArgs, type ParseArgsConfig } from "node:util";
import path from "node:path";
import { migrateBlobs, type MigrateReport } from "@/lib/blobs/migrate";
import { formatBytes, type ProgressSink } from "@/lib/blobs/progress";
import { verifyBlobs, type VerifyReport } from "@/lib/blobs/verify";
import { env, type HangarEnv } from "@/lib/env";
import { createBlobStoreOf, getBlobStore, type BlobStore, type S3BlobStore } from "@/lib/storage";

export interface BlobsIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where progress goes: a terminal (a bar redrawn in place) or plain lines. */
  progress: ProgressSink;
}

/** Exit statuses: 0 done and all well, 1 a blob missing, damaged or not copied, 2 wrong usage or settings. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

class UsageError extends Error {}

type Kind = HangarEnv["HANGAR_BLOB_STORE"];

interface Command {
  usage: string;
  summary: string;
  options?: ParseArgsConfig["options"];
  run: (
    parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] },
    io: BlobsIo,
  ) => Promise<number>;
}

function describeStore(config: HangarEnv, kind: Kind): string {
  if (kind === "local") return `the local store ${path.join(config.dataDir, "blobs")}`;
  return `bucket ${config.HANGAR_S3_BUCKET}${config.HANGAR_S3_PREFIX ? ` (prefix ${config.HANGAR_S3_PREFIX})` : ""} at ${config.HANGAR_S3_ENDPOINT ?? "AWS S3"}`;
}

/** The store of this kind, checked to be usable; a UsageError naming the setting when it is not. */
async function openStore(config: HangarEnv, kind: Kind, role: string): Promise<BlobStore> {
  let store: BlobStore;
  try {
    store = kind === config.HANGAR_BLOB_STORE ? getBlobStore() : createBlobStoreOf(config, kind);
  } catch (error) {
    throw new UsageError(`The ${role} can't be used: ${(error as Error).message}`);
  }
  if (kind === "s3") {
    try {
      await (store as S3BlobStore).check();
    } catch (error) {
      throw new UsageError(`The ${role} can't be used: ${(error as Error).message}.`);
    }
  }
  return store;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

function printMigrate(report: MigrateReport, config: HangarEnv, targetKind: Kind, io: BlobsIo): void {
  io.out(
    `Copied ${plural(report.copied, "blob")} (${formatBytes(report.copiedBytes)}) from ${report.from} to ${report.to} in ${report.seconds} s, ${plural(report.passes, "pass")}; ${report.alreadyThere} already there.`,
  );
  for (const overlay of report.rebased)
    io.out(
      `REBASED    ${overlay.from} → ${overlay.to} (${overlay.versions.join(", ")}): the linked clone named its base by a local path; its header now names it by sha256, so the version's sha256 changed`,
    );
  for (const failure of report.failed) io.out(`NOT COPIED ${failure.sha256}: ${failure.reason}`);
  for (const missing of report.missing)
    io.out(`MISSING    ${missing.sha256} (${missing.referrers.join(", ")}): in neither store, nothing to copy`);
  if (report.failed.length || report.missing.length) {
    io.out(
      `${plural(report.failed.length, "blob")} not copied, ${report.missing.length} missing: the target is not complete. Run the command again; what is copied is kept.`,
    );
    return;
  }
  const to = `HANGAR_BLOB_STORE=${targetKind}`;
  const removeSource =
    targetKind === "s3"
      ? `rm -r ${path.join(config.dataDir, "blobs")}`
      : `your S3 tool, e.g. aws s3 rm --recursive s3://${config.HANGAR_S3_BUCKET}/${config.HANGAR_S3_PREFIX}`;
  io.out(
    config.HANGAR_BLOB_STORE === targetKind
      ? `Hangar already uses ${report.to}. Run npm run blobs -- verify; once it passes, the old copy may go (${removeSource}).`
      : [
          "Every blob is in the target, each verified by its sha256. Next:",
          `  1. set ${to} on every Hangar process and restart them;`,
          `  2. run npm run blobs -- migrate --to ${targetKind} once more: it copies what was written before the restart;`,
          "  3. run npm run blobs -- verify;",
          `  4. the source was not touched: once verify passes, remove it with ${removeSource}.`,
        ].join("\n"),
  );
}

function printVerify(report: VerifyReport, io: BlobsIo): void {
  io.out(
    `Checked ${plural(report.checked, "referenced blob")} (${formatBytes(report.checkedBytes)}) in ${report.store}${report.deep ? ", re-hashing each" : " (sizes; --deep re-hashes)"}.`,
  );
  for (const missing of report.missing) io.out(`MISSING ${missing.sha256} (${missing.referrers.join(", ")})`);
  for (const damaged of report.damaged)
    io.out(`DAMAGED ${damaged.sha256} (${damaged.referrers.join(", ")}): ${damaged.problem}`);
  for (const orphan of report.orphans)
    io.out(
      `ORPHAN  ${orphan.sha256}${orphan.size === null ? "" : ` (${formatBytes(orphan.size)})`}: nothing refers to it`,
    );
  for (const orphan of report.orphanUploads)
    io.out(`ORPHAN  ${orphan.key} (${formatBytes(orphan.size)}): an upload that ended without becoming a blob`);
  const orphans = report.orphans.length + report.orphanUploads.length;
  io.out(
    `${report.missing.length} missing, ${report.damaged.length} damaged, ${plural(orphans, "orphan")}${report.inFlight ? `, ${report.inFlight} being written now (not orphans)` : ""}.`,
  );
  if (report.missing.length || report.damaged.length)
    io.out(
      "A missing or damaged blob's version can't be downloaded or built on: if the other store still has a good copy, migrate it back; otherwise upload the version again.",
    );
  if (orphans) io.out("Orphans go at the next start of a Hangar process (start-up reconciliation).");
}

const commands: Record<string, Command> = {
  migrate: {
    usage: "migrate --to s3|local [--json]",
    summary:
      "copy every blob from the other store into this one (local: HANGAR_DATA_DIR/blobs, s3: the HANGAR_S3_* bucket), verifying each sha256; resumable, safe while Hangar runs, deletes nothing",
    options: { to: { type: "string" }, json: { type: "boolean" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length)
        throw new UsageError(`migrate takes no arguments.\n\nUsage: npm run blobs -- ${commands.migrate!.usage}`);
      const to = values.to;
      if (to !== "s3" && to !== "local")
        throw new UsageError(
          `${to === undefined ? "Say where the blobs go" : `“${String(to)}” is not a store`}: --to s3 or --to local.\n\nUsage: npm run blobs -- ${commands.migrate!.usage}`,
        );
      const config = env();
      const fromKind: Kind = to === "s3" ? "local" : "s3";
      const source = await openStore(config, fromKind, `source (${describeStore(config, fromKind)})`);
      const target = await openStore(config, to, `target (${describeStore(config, to)})`);
      io.err(
        `Copying blobs from ${describeStore(config, fromKind)} to ${describeStore(config, to)}; Hangar may keep running, nothing is deleted from the source.`,
      );
      const report = await migrateBlobs({
        source,
        target,
        from: describeStore(config, fromKind),
        to: describeStore(config, to),
        dataDir: config.dataDir,
        sink: io.progress,
        rebaseOverlays: to === "s3",
      });
      if (values.json) io.out(JSON.stringify(report, null, 2));
      else printMigrate(report, config, to, io);
      return report.failed.length || report.missing.length ? EXIT.problems : EXIT.ok;
    },
  },
  verify: {
    usage: "verify [--deep] [--json]",
    summary:
      "check that every version's, conversion's and recipe file's blob is in the configured store at the right size (--deep: the right sha256) and list orphans",
    options: { deep: { type: "boolean" }, json: { type: "boolean" } },
    run: async ({ values, positionals }, io) => {
      if (positionals.length)
        throw new UsageError(`verify takes no arguments.\n\nUsage: npm run blobs -- ${commands.verify!.usage}`);
      const config = env();
      const store = await openStore(
        config,
        config.HANGAR_BLOB_STORE,
        `configured store (${describeStore(config, config.HANGAR_BLOB_STORE)})`,
      );
      const report = await verifyBlobs({
        store,
        description: describeStore(config, config.HANGAR_BLOB_STORE),
        deep: values.deep === true,
        sink: io.progress,
      });
      if (values.json) io.out(JSON.stringify(report, null, 2));
      else printVerify(report, io);
      return report.missing.length || report.damaged.length ? EXIT.problems : EXIT.ok;
    },
  },
};

export function helpText(): string {
  const lines = [
    "Usage: npm run blobs -- <command> [options]",
    "",
    "Runs on a server machine with Hangar's settings (HANGAR_DATA_DIR, HANGAR_BLOB_STORE, HANGAR_S3_*) and direct database access.",
    "",
  ];
  for (const command of Object.values(commands)) lines.push(`  ${command.usage}`, `      ${command.summary}`);
  lines.push(
    "  help",
    "      this text",
    "",
    "Exit status: 0 done and every blob well, 1 a blob missing, damaged or not copied, 2 wrong usage or settings (a store that can't be used).",
  );
  return lines.join("\n");
}

export type Resolved = ResolvedCommand<BlobsIo>;

/** Parses the command line without touching the database or a store, so `help` and typos need neither. */
export function resolve(argv: string[]): Resolved {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") return { kind: "help" };
  const command = commands[name];
  if (!command) return { kind: "usage", message: `Unknown command “${name}”.\n\n${helpText()}` };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    return { kind: "usage", message: `${(error as Error).message}\n\nUsage: npm run blobs -- ${command.usage}` };
  }
  return {
    kind: "command",
    run: async (io) => {
      try {
        return await command.run(parsed as Parameters<Command["run"]>[0], io);
      } catch (error) {
        if (error instanceof UsageError) {
          io.err(error.message);
          return EXIT.usage;
        }
        throw error;
      }
    },
  };
}
