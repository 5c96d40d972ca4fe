import { getViewer } from "@/lib/auth/session";
import { downloadResponse } from "@/lib/http/download";
import { errorResponse } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Sign in to download images.");
  return downloadResponse({ request, viewer, versionId: (await params).id });
}

export const HEAD = GET;
