// A server-side operator command's command line, parsed before anything is opened: help, a usage
// error, or the command to run (scripts/server-command.ts runs it).
export type ResolvedCommand<Io> =
  { kind: "help" } | { kind: "usage"; message: string } | { kind: "command"; run: (io: Io) => Promise<number> };
