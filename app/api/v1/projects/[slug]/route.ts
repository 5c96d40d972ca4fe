import { getProjectObject } from "@/lib/api/images";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string }>("read", async ({ viewer, params }) =>
  Response.json(await getProjectObject(viewer, params.slug)),
);
