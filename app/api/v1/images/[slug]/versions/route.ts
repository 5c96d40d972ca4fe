import { listImageVersionsPage } from "@/lib/api/images";
import { readQuery } from "@/lib/api/paging";
import { imageVersionsQuerySchema } from "@/lib/api/openapi/images";
import { apiRoute, queryObject } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string }>("read", async ({ viewer, params, url }) => {
  return Response.json(
    await listImageVersionsPage(viewer, params.slug, readQuery(imageVersionsQuerySchema, queryObject(url))),
  );
});
