import { listProjectsPage } from "@/lib/api/images";
import { readQuery } from "@/lib/api/paging";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { apiRoute, queryObject } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute("read", async ({ viewer, url }) =>
  Response.json(await listProjectsPage(viewer, readQuery(pageQuerySchema, queryObject(url)))),
);
