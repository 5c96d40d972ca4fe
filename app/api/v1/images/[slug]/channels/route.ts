import { getImageObject } from "@/lib/api/images";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string }>("read", async ({ viewer, params }) =>
  Response.json({ items: (await getImageObject(viewer, params.slug)).channels }),
);
