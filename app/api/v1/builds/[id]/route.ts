import { getBuild } from "@/db/queries/builds";
import { buildNotFound, buildObject } from "@/lib/api/build-objects";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = apiRoute<{ id: string }>("read", async ({ viewer, params }) => {
  const build = await getBuild({ viewer, id: params.id });
  if (!build) throw buildNotFound();
  return Response.json(buildObject(build));
});
