import { z } from "zod";
import { getVersionProgress } from "@/db/queries/images";
import { getViewer } from "@/lib/auth/session";
import { errorResponse } from "@/lib/errors";

export const dynamic = "force-dynamic";

// Polled while an import runs, for its progress bar and its outcome.
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Sign in to follow imports.");
  const { id } = await params;
  const version = z.string().uuid().safeParse(id).success ? await getVersionProgress({ viewer, versionId: id }) : null;
  if (!version) return errorResponse("not_found", "That version doesn't exist, or you can't see it.");
  return Response.json(version);
}
