import { listProjectClonesPage } from "@/lib/api/images";
import { readQuery } from "@/lib/api/paging";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { apiRoute, queryObject } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ slug: string }>("read", async ({ viewer, params, url }) =>
  Response.json(await listProjectClonesPage(viewer, params.slug, readQuery(pageQuerySchema, queryObject(url)))),
);
