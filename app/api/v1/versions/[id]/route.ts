import { getVersionObject } from "@/lib/api/images";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ id: string }>("read", async ({ viewer, params }) =>
  Response.json(await getVersionObject(viewer, params.id)),
);
