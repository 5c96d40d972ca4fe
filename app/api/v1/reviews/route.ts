import { listApprovableReviews } from "@/db/queries/releases";
import { listVersionFacts } from "@/db/queries/versions";
import { versionOf } from "@/lib/api/images";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { pageResponse, readPageQuery } from "@/lib/api/paging";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = apiRoute("read", async ({ viewer, url }) => {
  const { after, limit } = readPageQuery<typeof pageQuerySchema, { position: string; id: string }>(
    url,
    pageQuerySchema,
    "reviews",
  );
  const pending = await listApprovableReviews({ viewer, after, limit: limit + 1 });
  const versions = new Map(
    (await listVersionFacts({ viewer, versionIds: pending.map((row) => row.id) })).map((version) => [
      version.id,
      version,
    ]),
  );
  return pageResponse(
    pending.filter((row) => versions.has(row.id)),
    limit,
    (row) => versionOf(versions.get(row.id)!),
    "reviews",
    (row) => ({ position: row.position, id: row.id }),
  );
});
