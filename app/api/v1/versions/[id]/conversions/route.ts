import { requestConversionFromApi } from "@/lib/api/image-changes";
import { conversionBodySchema } from "@/lib/api/openapi/images";
import { apiRoute, readJsonBody } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const POST = apiRoute<{ id: string }>("write", async ({ request, viewer, params }) =>
  Response.json(await requestConversionFromApi(viewer, params.id, await readJsonBody(request, conversionBodySchema)), {
    status: 202,
  }),
);
