import { listReleaseChanges } from "@/db/queries/releases";
import { releaseChangeObject } from "@/lib/api/build-objects";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { pageResponse, readPageQuery } from "@/lib/api/paging";
import { apiRoute } from "@/lib/api/route";
import { HangarError } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = apiRoute<{ id: string }>("read", async ({ viewer, params, url }) => {
  const { after, limit } = readPageQuery<typeof pageQuerySchema, { id: number }>(
    url,
    pageQuerySchema,
    `release-changes:${params.id}`,
  );
  const changes = await listReleaseChanges({
    viewer,
    versionId: params.id,
    afterId: typeof after?.id === "number" ? after.id : undefined,
    limit: limit + 1,
  });
  if (!changes) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  return pageResponse(changes, limit, releaseChangeObject, `release-changes:${params.id}`, (row) => ({ id: row.id }));
});
