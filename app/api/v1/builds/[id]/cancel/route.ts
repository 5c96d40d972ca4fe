import { getBuild } from "@/db/queries/builds";
import { cancelBuildAction } from "@/lib/actions/recipe-actions";
import { buildNotFound, buildObject } from "@/lib/api/build-objects";
import { apiRoute, unwrap } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = apiRoute<{ id: string }>("write", async ({ viewer, params }) => {
  unwrap(await cancelBuildAction(viewer, { buildId: params.id }));
  const build = await getBuild({ viewer, id: params.id });
  if (!build) throw buildNotFound();
  return Response.json(buildObject(build));
});
