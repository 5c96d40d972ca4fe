import { retryBuildAction } from "@/lib/actions/recipe-actions";
import { startedBuildResponse } from "@/lib/api/build-objects";
import { apiRoute, unwrap } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = apiRoute<{ id: string }>("write", async ({ viewer, params }) =>
  startedBuildResponse(viewer, unwrap(await retryBuildAction(viewer, { buildId: params.id }))),
);
