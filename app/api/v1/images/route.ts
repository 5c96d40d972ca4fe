import { createImageFromApi } from "@/lib/api/image-changes";
import { listImagesPage } from "@/lib/api/images";
import { readQuery } from "@/lib/api/paging";
import { createImageBodySchema, imageListQuerySchema } from "@/lib/api/openapi/images";
import { apiRoute, queryObject, readJsonBody } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute("read", async ({ viewer, url }) =>
  Response.json(await listImagesPage(viewer, readQuery(imageListQuerySchema, queryObject(url)))),
);

export const POST = apiRoute("write", async ({ request, viewer }) =>
  Response.json(await createImageFromApi(viewer, await readJsonBody(request, createImageBodySchema)), { status: 201 }),
);
