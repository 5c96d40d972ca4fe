// `npm run admin -- <command>`: the operator's command (see lib/cli/admin.ts). It talks to the
// database directly, as scripts/server-command.ts says.
import { EXIT, helpText, resolve } from "../lib/cli/admin";
import { runServerCommand } from "./server-command";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new Error(
      '--password-stdin reads the password from a pipe, e.g. `printf %s "$PASSWORD" | npm run admin -- user create ...`.',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

void runServerCommand({
  tag: "admin",
  resolved: resolve(process.argv.slice(2)),
  helpText,
  io: { out: (line) => console.log(line), err: (line) => console.error(line), readStdin },
  exit: { ok: EXIT.ok, usage: EXIT.usage, failed: EXIT.refused },
}).then((code) => process.exit(code));
