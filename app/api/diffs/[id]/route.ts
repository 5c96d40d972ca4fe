// A file diff's status and, once done, its differences: polled by the diff page while the job
// runs. Seen only by those who see both versions (anyone else gets the same 404 as for no diff).
import { getFileDiffById } from "@/db/queries/version-diffs";
import { getViewer } from "@/lib/auth/session";
import { HangarError, withRouteErrors } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withRouteErrors(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const viewer = await getViewer();
  if (!viewer) throw new HangarError("unauthenticated", "Sign in to see comparisons.");
  const { id } = await params;
  const diff = await getFileDiffById({ viewer, diffId: id });
  if (!diff) throw new HangarError("not_found", "That comparison doesn't exist or you can't see it.");
  return Response.json(diff, { headers: { "Cache-Control": "no-store" } });
});
