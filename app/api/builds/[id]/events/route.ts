import { getBuild } from "@/db/queries/builds";
import { getViewer } from "@/lib/auth/session";
import { buildEventStream, resumePointOf } from "@/lib/builds/log-stream";
import { errorResponse } from "@/lib/errors";

// The live build page's log and state (lib/builds/log-stream.ts), for the signed-in browser.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Your session has ended. Sign in again to continue.");
  if (!(await getBuild({ viewer, id })))
    return errorResponse("not_found", "That build doesn't exist or is in a project you are not a member of.");
  return buildEventStream({
    viewer,
    buildId: id,
    after: resumePointOf(request),
    signal: request.signal,
    stateOf: (build) => ({
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
    }),
    endOf: (build) => ({ status: build.status }),
  });
}
