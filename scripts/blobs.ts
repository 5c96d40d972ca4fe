// `npm run blobs -- <command>`: the operator's blob-store commands (see lib/cli/blobs.ts), run like
// `npm run admin` (scripts/server-command.ts).
import { EXIT, helpText, resolve } from "../lib/cli/blobs";
import { runServerCommand } from "./server-command";

void runServerCommand({
  tag: "blobs",
  resolved: resolve(process.argv.slice(2)),
  helpText,
  io: {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    // The bar goes to standard error, so standard output (the summary, --json) stays clean for a pipe.
    progress: { tty: process.stderr.isTTY ? process.stderr : null, line: (line) => console.error(line) },
  },
  exit: { ok: EXIT.ok, usage: EXIT.usage, failed: EXIT.problems },
}).then((code) => process.exit(code));
