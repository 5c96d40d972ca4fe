import { listVersionFacts } from "@/db/queries/versions";
import { changeReleaseAction } from "@/lib/actions/release-actions";
import { versionOf } from "@/lib/api/images";
import { releaseBodySchema } from "@/lib/api/openapi/builds";
import { apiRoute, readJsonBody, unwrap } from "@/lib/api/route";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = apiRoute<{ id: string }>("write", async ({ request, viewer, params }) => {
  const body = await readJsonBody(request, releaseBodySchema);
  const result = unwrap(await changeReleaseAction(viewer, { ...body, versionId: params.id }));
  const [version] = await listVersionFacts({ viewer, versionIds: [params.id] });
  const scheduledFor = result.scheduledFor?.toISOString() ?? null;
  // Revoking can take the version out of the caller's sight; the change happened all the same.
  if (!version) return Response.json({ id: params.id, releaseStatus: result.status, scheduledFor });
  return Response.json({ ...versionOf(version), scheduledFor });
});
