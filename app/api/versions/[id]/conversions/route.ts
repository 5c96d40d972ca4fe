import { z } from "zod";
import { getDownloadableVersion, listConversions } from "@/db/queries/versions";
import { getViewer } from "@/lib/auth/session";
import { errorResponse } from "@/lib/errors";

export const dynamic = "force-dynamic";

// Polled by the version page while a conversion runs.
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Sign in to see conversions.");
  const { id } = await params;
  if (!z.string().uuid().safeParse(id).success) return errorResponse("not_found", "No such version.");
  const version = await getDownloadableVersion({ viewer, versionId: id });
  if (!version) return errorResponse("not_found", "That version doesn't exist, isn't ready, or you can't see it.");
  return Response.json({ conversions: await listConversions({ versionId: id }) });
}
