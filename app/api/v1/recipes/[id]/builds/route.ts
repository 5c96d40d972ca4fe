import { startBuildAction } from "@/lib/actions/recipe-actions";
import { readOptionalJsonBody, startedBuildResponse } from "@/lib/api/build-objects";
import { startBuildBodySchema } from "@/lib/api/openapi/builds";
import { apiRoute, unwrap } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = apiRoute<{ id: string }>("write", async ({ request, viewer, params }) => {
  const body = await readOptionalJsonBody(request, startBuildBodySchema);
  const result = unwrap(await startBuildAction(viewer, { ...body, recipeId: params.id }));
  return startedBuildResponse(viewer, result);
});
