import { getLineage } from "@/db/queries/lineage";
import { getViewer } from "@/lib/auth/session";
import { errorResponse } from "@/lib/errors";

// The full chain of a version as JSON: ancestry to the root, descendants, states and freshness.
export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Your session has ended. Sign in again to continue.");
  const lineage = await getLineage({ viewer, versionId: (await params).id });
  if (!lineage) return errorResponse("not_found", "That version doesn't exist or you can't see it.");
  return Response.json(lineage);
}
