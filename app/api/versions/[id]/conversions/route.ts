import { z } from "zod";
import { getDownloadableVersion, listConversions } from "@/db/queries/versions";
import { getViewer } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

// Polled by the version page while a conversion runs.
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return Response.json({ message: "Sign in to see conversions." }, { status: 401 });
  const { id } = await params;
  if (!z.string().uuid().safeParse(id).success) return Response.json({ message: "No such version." }, { status: 404 });
  const version = await getDownloadableVersion({ viewer, versionId: id });
  if (!version) return Response.json({ message: "That version doesn't exist, isn't ready, or you can't see it." }, { status: 404 });
  return Response.json({ conversions: await listConversions({ versionId: id }) });
}
