import { cloneVersionFromApi } from "@/lib/api/image-changes";
import { cloneBodySchema } from "@/lib/api/openapi/images";
import { apiRoute, readJsonBody } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = apiRoute<{ id: string }>("write", async ({ request, viewer, params }) =>
  Response.json(await cloneVersionFromApi(viewer, params.id, await readJsonBody(request, cloneBodySchema)), {
    status: 202,
  }),
);
