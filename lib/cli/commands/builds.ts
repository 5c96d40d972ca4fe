// `hangar build` starts a recipe's build and, with --follow, streams its log (SSE, resumed by
// Last-Event-ID after a dropped connection); the exit status is the build's result.
// `hangar builds show|cancel` read and stop one.
import { setTimeout as sleep } from "node:timers/promises";
import { api, connectionOf, errorFromResponse, send, segment, type Connection } from "../client";
import { emit, stringValue, type Command, type CommandContext } from "../command";
import { CliError, usageError } from "../errors";

interface Build {
  id: string;
  recipeId: string;
  revision: number;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  failureReason: string | null;
  cancelRequested?: boolean;
  output?: { imageSlug: string; version: string; versionId: string | null };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface LogLine {
  id?: number | string;
  at?: string;
  stream?: string;
  line: string;
}

const ENDED = new Set(["succeeded", "failed", "cancelled"]);

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Splits a text/event-stream into events; keeps what is left of an unfinished event in `rest`. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    const event: SseEvent = { event: "message", data: "" };
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event.event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") event.id = value;
    }
    event.data = data.join("\n");
    if (data.length || event.id !== undefined) events.push(event);
  }
  return { events, rest };
}

const summary = (build: Build) =>
  `Build ${build.id}: ${build.status}${build.failureReason ? ` (${build.failureReason})` : ""}${
    build.output?.versionId
      ? `; output ${build.output.imageSlug} ${build.output.version} (${build.output.versionId})`
      : ""
  }`;

/** Streams the log until the build ends, reconnecting with the last event id it saw. */
async function follow(connection: Connection, context: CommandContext, buildId: string): Promise<Build> {
  const print = (text: string) => (context.globals.json ? context.io.err(text) : context.io.out(text));
  let lastEventId: string | undefined;
  for (let attempt = 0; ; attempt += 1) {
    let response: Response | null = null;
    try {
      response = await send(connection, `/api/v1/builds/${segment(buildId)}/log`, {
        headers: { Accept: "text/event-stream", ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
      });
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    if (response && !response.ok) throw await errorFromResponse(response, `the log of build ${buildId}`);
    if (response?.body) {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const parsed = parseSse(buffer + decoder.decode(chunk, { stream: true }));
          buffer = parsed.rest;
          for (const event of parsed.events) {
            if (event.id !== undefined) lastEventId = event.id;
            if (event.event === "log") {
              const lines = JSON.parse(event.data) as LogLine[] | LogLine;
              for (const entry of Array.isArray(lines) ? lines : [lines]) print(entry.line);
            } else if (event.event === "end") return JSON.parse(event.data) as Build;
            attempt = 0;
          }
        }
      } catch {
        // A dropped stream: reconnect below and continue after the last event seen.
      }
    }
    // The stream closed without an end event: the build may have ended meanwhile.
    const build = await api<Build>(connection, `/api/v1/builds/${segment(buildId)}`);
    if (ENDED.has(build.status) && attempt > 0) return build;
    if (attempt >= 5)
      throw new CliError("unreachable", `Lost the log stream of build ${buildId}; it is ${build.status}.`);
    await sleep(Math.min(500 * 2 ** attempt, 5000));
  }
}

const exitOf = (build: Build) => (build.status === "succeeded" ? 0 : 1);

export const build: Command = {
  usage: "hangar build RECIPE_ID [--revision N] [--force] [--follow]",
  summary: "start a recipe's build; --follow streams the log and exits with its result",
  help: `--revision N  build this revision of the recipe (default: the latest)
--force       build even if an identical build already succeeded
--follow      stream the build's log until it ends; exit 0 if it succeeded, 1 otherwise`,
  options: { revision: { type: "string" }, force: { type: "boolean" }, follow: { type: "boolean" } },
  async run(context) {
    if (context.positionals.length !== 1) throw usageError("Say which recipe to build.", `Usage: ${this.usage}`);
    const revisionText = stringValue(context.values.revision);
    const revision = revisionText === undefined ? undefined : Number(revisionText);
    if (revision !== undefined && (!Number.isInteger(revision) || revision < 1))
      throw new CliError("usage", "--revision is a revision number such as 3.");
    const connection = await connectionOf(context.globals, context.io);
    const started = await api<Build>(connection, `/api/v1/recipes/${segment(context.positionals[0]!)}/builds`, {
      method: "POST",
      body: { ...(revision ? { revision } : {}), ...(context.values.force ? { force: true } : {}) },
    });
    if (!context.values.follow) {
      emit(context, started, () => `Started build ${started.id} (revision ${started.revision}): ${started.status}.`);
      return 0;
    }
    if (!context.globals.json)
      context.io.err(`Build ${started.id} (revision ${started.revision}) ${started.status}; following its log.`);
    const ended = await follow(connection, context, started.id);
    emit(context, ended, () => summary(ended));
    return exitOf(ended);
  },
};

export const buildsShow: Command = {
  usage: "hangar builds show BUILD_ID",
  summary: "a build's state",
  options: {},
  async run(context) {
    if (context.positionals.length !== 1) throw usageError("Say which build.", `Usage: ${this.usage}`);
    const connection = await connectionOf(context.globals, context.io);
    const shown = await api<Build>(connection, `/api/v1/builds/${segment(context.positionals[0]!)}`);
    emit(context, shown, () => summary(shown));
    return 0;
  },
};

export const buildsCancel: Command = {
  usage: "hangar builds cancel BUILD_ID",
  summary: "ask a queued or running build to stop",
  options: {},
  async run(context) {
    if (context.positionals.length !== 1) throw usageError("Say which build.", `Usage: ${this.usage}`);
    const connection = await connectionOf(context.globals, context.io);
    const cancelled = await api<Build>(connection, `/api/v1/builds/${segment(context.positionals[0]!)}/cancel`, {
      method: "POST",
    });
    emit(context, cancelled, () => summary(cancelled));
    return 0;
  },
};
