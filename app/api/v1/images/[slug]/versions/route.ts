import { getImageObject, listVersionsPage, readQuery } from "@/lib/api/images";
import { imageVersionsQuerySchema } from "@/lib/api/openapi/images";
import { apiRoute, queryObject } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string }>("read", async ({ viewer, params, url }) => {
  const query = readQuery(imageVersionsQuerySchema, queryObject(url));
  // An image the caller can't see is a 404, not an empty list.
  const image = await getImageObject(viewer, params.slug);
  return Response.json(await listVersionsPage(viewer, { ...query, image: image.slug }));
});
