import { apiDocument } from "@/lib/api/openapi/document";

export const dynamic = "force-dynamic";

// Public, like the reference page: the document describes the API, not anyone's data.
export function GET() {
  return Response.json(apiDocument(), { headers: { "Cache-Control": "public, max-age=300" } });
}
