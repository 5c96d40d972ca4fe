import { getBuild } from "@/db/queries/builds";
import { buildNotFound, buildObject } from "@/lib/api/build-objects";
import { apiRoute } from "@/lib/api/route";
import { buildEventStream, resumePointOf } from "@/lib/builds/log-stream";

// `hangar build --follow`: the build page's stream (lib/builds/log-stream.ts) with the Build as
// state, and the final Build in the `end` event so the client knows the result without asking again.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = apiRoute<{ id: string }>("read", async ({ request, viewer, params }) => {
  if (!(await getBuild({ viewer, id: params.id }))) throw buildNotFound();
  return buildEventStream({
    viewer,
    buildId: params.id,
    after: resumePointOf(request),
    signal: request.signal,
    stateOf: buildObject,
    endOf: buildObject,
  });
});
