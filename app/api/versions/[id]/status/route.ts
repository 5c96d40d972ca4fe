import { z } from "zod";
import { getVersionProgress } from "@/db/queries/images";
import { getViewer } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

// Polled while an import runs, for its progress bar and its outcome.
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return Response.json({ message: "Sign in to follow imports." }, { status: 401 });
  const { id } = await params;
  const version = z.string().uuid().safeParse(id).success ? await getVersionProgress({ viewer, versionId: id }) : null;
  if (!version) return Response.json({ message: "That version doesn't exist, or you can't see it." }, { status: 404 });
  return Response.json(version);
}
