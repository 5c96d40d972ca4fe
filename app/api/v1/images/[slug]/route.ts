import { updateImageFromApi } from "@/lib/api/image-changes";
import { getImageObject } from "@/lib/api/images";
import { patchImageBodySchema } from "@/lib/api/openapi/images";
import { apiRoute, readJsonBody } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string }>("read", async ({ viewer, params }) =>
  Response.json(await getImageObject(viewer, params.slug)),
);

export const PATCH = apiRoute<{ slug: string }>("write", async ({ request, viewer, params }) =>
  Response.json(await updateImageFromApi(viewer, params.slug, await readJsonBody(request, patchImageBodySchema))),
);
