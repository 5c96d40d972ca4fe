import { apiRoute } from "@/lib/api/route";
import { downloadResponse } from "@/lib/http/download";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// The same download as the version page's, for a token: Range, ETag, ?format= for a conversion.
export const GET = apiRoute<{ id: string }>("read", ({ request, viewer, params }) =>
  downloadResponse({ request, viewer, versionId: params.id }),
);
export const HEAD = GET;
