import { getBuild, getBuildLogs } from "@/db/queries/builds";
import { getViewer } from "@/lib/auth/session";
import { errorResponse } from "@/lib/errors";

// The live build page: log lines and state as server-sent events, read from PostgreSQL where the
// worker writes them, so any web process can serve any build. Ends when the build has ended and
// every line was sent; EventSource resumes from Last-Event-ID after a dropped connection.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const POLL_MS = 400;
const LOG_BATCH = 2000;

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Your session has ended. Sign in again to continue.");
  if (!(await getBuild({ viewer, id })))
    return errorResponse("not_found", "That build doesn't exist or is in a project you are not a member of.");
  const url = new URL(request.url);
  let after = Number(request.headers.get("last-event-id") ?? url.searchParams.get("after") ?? 0) || 0;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: string, data: unknown, eventId?: number) =>
        controller.enqueue(
          encoder.encode(
            `${eventId !== undefined ? `id: ${eventId}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
          ),
        );
      let lastState = "";
      try {
        while (!request.signal.aborted) {
          const build = await getBuild({ viewer, id });
          if (!build) break;
          // One query per tick; more only while a batch comes back full.
          for (let full = true; full;) {
            const batch = await getBuildLogs({ buildId: id, afterId: after, limit: LOG_BATCH });
            full = batch.length === LOG_BATCH;
            if (!batch.length) break;
            after = batch.at(-1)!.id;
            send(
              "log",
              batch.map((line) => ({ id: line.id, at: line.at, stream: line.stream, line: line.line })),
              after,
            );
          }
          const state = JSON.stringify({
            status: build.status,
            steps: build.steps,
            failureReason: build.failureReason,
            cancelRequested: build.cancelRequested,
            outputImage: build.outputImage,
            outputVersion: build.outputVersion,
            startedAt: build.startedAt,
            finishedAt: build.finishedAt,
            acceleration: build.acceleration,
            accelerationReason: build.accelerationReason,
            timeLimitSeconds: build.timeLimitSeconds,
          });
          if (state !== lastState) {
            lastState = state;
            controller.enqueue(encoder.encode(`event: state\ndata: ${state}\n\n`));
          }
          if (build.status !== "queued" && build.status !== "running") {
            send("end", { status: build.status });
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } catch (error) {
        console.error("build event stream failed", error);
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
