import { getLineage } from "@/db/queries/lineage";
import { getViewer } from "@/lib/auth/session";

// The full chain of a version as JSON: ancestry to the root, descendants, states and freshness.
export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return Response.json({ message: "Your session has ended. Sign in again to continue." }, { status: 401 });
  const lineage = await getLineage({ viewer, versionId: (await params).id });
  if (!lineage) return Response.json({ message: "That version doesn't exist or you can't see it." }, { status: 404 });
  return Response.json(lineage);
}
