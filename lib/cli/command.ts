// The shape every `hangar` command has, and the few things they share: printing a result as JSON
// or for a person, and reading a secret.
import type { ParseArgsConfig } from "node:util";
import type { Globals, Io } from "./client";

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandContext {
  globals: Globals;
  io: Io;
  values: Values;
  positionals: string[];
}

export interface Command {
  usage: string;
  summary: string;
  help?: string;
  options?: NonNullable<ParseArgsConfig["options"]>;
  run(context: CommandContext): Promise<number>;
}

/** The result on stdout: the object as JSON with --json, else the human text. */
export function emit(context: CommandContext, data: unknown, human: () => string): void {
  if (context.globals.json) context.io.out(JSON.stringify(data, null, 2));
  else {
    const text = human();
    if (text) context.io.out(text);
  }
}

export const stringValue = (value: Values[string]): string | undefined =>
  typeof value === "string" ? value : undefined;

/** Reads a line from the terminal without echoing it (a token should not end up on screen). */
export function promptSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(question);
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    let secret = "";
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(secret);
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === "\r" || character === "\n") return done();
        if (character === "\u0003") return done(new Error("cancelled"));
        if (character === "\u007f" || character === "\b") secret = secret.slice(0, -1);
        else secret += character;
      }
    };
    input.on("data", onData);
  });
}

export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
