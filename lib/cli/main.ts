// `hangar` command line: the server's API for scripts and people (login, pull, push, images,
// builds, reviews, channels) and `inspect`, which runs locally. Each command lives in commands/;
// this file finds the command, parses its flags with the global ones, and turns a CliError into
// a message (or JSON with --json) and an exit status: 0 done, 1 failed or refused, 2 usage or config.
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Globals, Io } from "./client";
import type { Command } from "./command";
import { build, buildsCancel, buildsShow } from "./commands/builds";
import { imagesLs, imagesShow, versionsLs } from "./commands/images";
import { inspect } from "./commands/inspect";
import { login, logout } from "./commands/login";
import { pull } from "./commands/pull";
import { push } from "./commands/push";
import { approve, channelSet, reject } from "./commands/release";
import { CliError, EXIT } from "./errors";

const commands: Record<string, Command> = {
  login,
  logout,
  "images ls": imagesLs,
  "images show": imagesShow,
  "versions ls": versionsLs,
  pull,
  push,
  build,
  "builds show": buildsShow,
  "builds cancel": buildsCancel,
  approve,
  reject,
  "channel set": channelSet,
  inspect,
};

const globalOptions = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies NonNullable<ParseArgsConfig["options"]>;

const globalHelp = `Global options:
  --url URL      the Hangar server (else HANGAR_URL, else the one hangar login stored)
  --token TOKEN  an API token (else HANGAR_TOKEN, else the stored one)
  --json         print results as JSON on stdout, errors as {"error":{"code","message"}} on stderr
  -h, --help     help for a command`;

function overview(): string {
  return [
    "Usage: hangar <command> [options]",
    "",
    ...Object.values(commands).flatMap((command) => [`  ${command.usage}`, `      ${command.summary}`]),
    "",
    globalHelp,
    "",
    "Exit status: 0 done, 1 failed or refused, 2 wrong usage or configuration.",
  ].join("\n");
}

const helpOf = (command: Command) =>
  [`Usage: ${command.usage}`, "", command.summary, ...(command.help ? ["", command.help] : []), "", globalHelp].join(
    "\n",
  );

/** The command's words (`images ls`) wherever they stand among the global flags, and the rest. */
function splitCommand(argv: string[]): { name: string | null; rest: string[] } {
  const words: number[] = [];
  for (let index = 0; index < argv.length && words.length < 2; index += 1) {
    const arg = argv[index]!;
    if (arg === "--") break;
    if (arg === "--url" || arg === "--token") index += 1;
    else if (!arg.startsWith("-")) {
      if (words.length === 1 && commands[argv[words[0]!]!]) break;
      words.push(index);
    } else if (words.length) break;
  }
  if (!words.length) return { name: null, rest: argv };
  const first = argv[words[0]!]!;
  const pair = words[1] === undefined ? null : `${first} ${argv[words[1]]}`;
  const used = pair && commands[pair] ? words : [words[0]!];
  const name = used.map((index) => argv[index]).join(" ");
  return { name, rest: argv.filter((_, index) => !used.includes(index)) };
}

export async function main(argv: string[], io: Io): Promise<number> {
  let json = argv.includes("--json");
  try {
    const { name, rest } = splitCommand(argv);
    if (!name) {
      if (rest.includes("--help") || rest.includes("-h")) {
        io.out(overview());
        return EXIT.ok;
      }
      throw new CliError("usage", overview());
    }
    const command = commands[name];
    if (!command) {
      const group = Object.keys(commands).filter((key) => key.startsWith(`${name.split(" ")[0]} `));
      throw new CliError(
        "usage",
        group.length
          ? `Unknown command “${name}”; try ${group.map((key) => `hangar ${key}`).join(", ")}.`
          : `Unknown command “${name}”. Run hangar --help for the list.`,
      );
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...globalOptions, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new CliError("usage", `${(error as Error).message}\n\nUsage: ${command.usage}`);
    }
    const { url, token, help, ...values } = parsed.values as Record<string, unknown>;
    json = parsed.values.json === true;
    if (help) {
      io.out(helpOf(command));
      return EXIT.ok;
    }
    const globals: Globals = { url: url as string | undefined, token: token as string | undefined, json };
    return await command.run({ globals, io, values: values as never, positionals: parsed.positionals });
  } catch (error) {
    const failure =
      error instanceof CliError
        ? error
        : new CliError("internal", `hangar: ${(error as Error).message ?? String(error)}`);
    if (json) io.err(JSON.stringify({ error: { code: failure.code, message: failure.message } }));
    else io.err(failure.message.startsWith("hangar:") ? failure.message : `hangar: ${failure.message}`);
    return failure.exitCode;
  }
}

main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  environment: process.env,
  stderrIsTty: Boolean(process.stderr.isTTY),
  stdinIsTty: Boolean(process.stdin.isTTY),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`hangar: ${(error as Error).message}\n`);
    process.exitCode = EXIT.usage;
  },
);
