import { listVersionsPage } from "@/lib/api/images";
import { readQuery } from "@/lib/api/paging";
import { versionListQuerySchema } from "@/lib/api/openapi/images";
import { apiRoute, queryObject } from "@/lib/api/route";

export const dynamic = "force-dynamic";

export const GET = apiRoute("read", async ({ viewer, url }) =>
  Response.json(await listVersionsPage(viewer, readQuery(versionListQuerySchema, queryObject(url)))),
);
