// A build's log and state as server-sent events, read from PostgreSQL where the worker writes them,
// so any web process can serve any build. One rule for the browser's build page and for
// /api/v1/builds/{id}/log: `log` events carry new lines (each event's id is the last line's, so a
// client resumes from Last-Event-ID), `state` events carry the build whenever it changes, and once
// the build has ended and every line was sent, one `end` event, then the stream closes.
import { getBuild, getBuildLogs, type BuildDetail } from "@/db/queries/builds";
import type { Viewer } from "@/db/queries/users";

const POLL_MS = 400;
const LOG_BATCH = 2000;

export function isActiveBuild(status: BuildDetail["status"]): boolean {
  return status === "queued" || status === "running";
}

/** Where a client resumes: Last-Event-ID (EventSource sends it on reconnect) wins over ?after=. */
export function resumePointOf(request: Request): number {
  const raw = request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("after") ?? "0";
  const after = Number(raw);
  return Number.isSafeInteger(after) && after > 0 ? after : 0;
}

export function buildEventStream({
  viewer,
  buildId,
  after,
  signal,
  stateOf,
  endOf,
}: {
  viewer: Viewer;
  buildId: string;
  /** The id of the last log line the client has. */
  after: number;
  /** Aborted when the client goes away; the polling stops then. */
  signal: AbortSignal;
  /** The `state` event's data for a build. */
  stateOf: (build: BuildDetail) => unknown;
  /** The `end` event's data for the ended build. */
  endOf: (build: BuildDetail) => unknown;
}): Response {
  const encoder = new TextEncoder();
  let lastLine = after;
  // Stops on either: the request is aborted, or the reader cancels the body (Next does on disconnect).
  const stop = new AbortController();
  const stopped = stop.signal;
  if (signal.aborted) stop.abort();
  else signal.addEventListener("abort", () => stop.abort(), { once: true });
  const stream = new ReadableStream<Uint8Array>({
    cancel() {
      stop.abort();
    },
    async start(controller) {
      const send = (event: string, data: unknown, eventId?: number) =>
        controller.enqueue(
          encoder.encode(
            `${eventId !== undefined ? `id: ${eventId}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
          ),
        );
      let lastState = "";
      try {
        while (!stopped.aborted) {
          // Read before the lines: the worker writes its last lines before it sets the final state.
          const build = await getBuild({ viewer, id: buildId });
          if (!build) break;
          // One query per tick; more only while a batch comes back full.
          for (let full = true; full && !stopped.aborted;) {
            const batch = await getBuildLogs({ buildId, afterId: lastLine, limit: LOG_BATCH });
            full = batch.length === LOG_BATCH;
            if (!batch.length) break;
            lastLine = batch.at(-1)!.id;
            send(
              "log",
              batch.map((line) => ({ id: line.id, at: line.at, stream: line.stream, line: line.line })),
              lastLine,
            );
          }
          const state = JSON.stringify(stateOf(build));
          if (state !== lastState) {
            lastState = state;
            controller.enqueue(encoder.encode(`event: state\ndata: ${state}\n\n`));
          }
          if (!isActiveBuild(build.status)) {
            send("end", endOf(build));
            break;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, POLL_MS);
            function done() {
              clearTimeout(timer);
              stopped.removeEventListener("abort", done);
              resolve();
            }
            stopped.addEventListener("abort", done, { once: true });
          });
        }
      } catch (error) {
        if (!stopped.aborted) console.error("build event stream failed", error);
      } finally {
        try {
          controller.close();
        } catch {
          // the client went away
        }
      }
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
