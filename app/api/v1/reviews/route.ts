import { listApprovableReviews } from "@/db/queries/releases";
import { listVersionFacts } from "@/db/queries/versions";
import { pageResponse, readPageQuery } from "@/lib/api/build-objects";
import { versionOf } from "@/lib/api/images";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { apiRoute } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = apiRoute("read", async ({ viewer, url }) => {
  const { after, limit } = readPageQuery<typeof pageQuerySchema, { position: string; id: string }>(
    url,
    pageQuerySchema,
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
    (row) => ({ position: row.position, id: row.id }),
  );
});
