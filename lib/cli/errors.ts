// What the CLI says when it stops: a code (the API's own code when the server refused, else one of
// the CLI's), a message for a person, and the exit status (1 failed or refused, 2 usage or config).
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const usageCodes = new Set(["usage", "config"]);

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "CliError";
  }

  get exitCode(): number {
    return usageCodes.has(this.code) ? EXIT.usage : EXIT.failed;
  }
}

export const usageError = (message: string, usage?: string) =>
  new CliError("usage", usage ? `${message}\n\n${usage}` : message);
