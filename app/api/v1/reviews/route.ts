import { listDecidableReviews, listVersionRecords } from "@/db/queries/releases";
import { pageResponse, readPageQuery, versionObject } from "@/lib/api/build-objects";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = apiRoute("read", async ({ viewer, url }) => {
  const { after, limit } = readPageQuery<typeof pageQuerySchema, { position: string; id: string }>(
    url,
    pageQuerySchema,
  );
  const pending = await listDecidableReviews({ viewer, after, limit: limit + 1 });
  const versions = new Map(
    (await listVersionRecords({ viewer, ids: pending.map((row) => row.id) })).map((version) => [version.id, version]),
  );
  return pageResponse(
    pending.filter((row) => versions.has(row.id)),
    limit,
    (row) => versionObject(versions.get(row.id)!),
    (row) => ({ position: row.position, id: row.id }),
  );
});
