import { getImageVersionObject } from "@/lib/api/images";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string; version: string }>("read", async ({ viewer, params }) =>
  Response.json(await getImageVersionObject(viewer, params.slug, params.version)),
);
