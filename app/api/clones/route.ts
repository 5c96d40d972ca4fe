// Clone requests and their progress, for the clone form and the project page to poll. Only clones
// of projects the caller belongs to (every project for admins) are listed.
import { z } from "zod";
import { listClones } from "@/db/queries/clones";
import { getViewer } from "@/lib/auth/session";
import { errorResponse, fieldErrorsOf } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const querySchema = z.object({
  projectId: z.string().uuid("projectId is a project id.").optional(),
  ids: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(",").slice(0, 50) : undefined)),
});

export async function GET(request: Request) {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Sign in to see clones.");
  const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success)
    return errorResponse("invalid", query.error.issues[0]?.message ?? "Bad query.", {
      fields: fieldErrorsOf(query.error),
    });
  const clones = await listClones({ viewer, projectId: query.data.projectId, cloneIds: query.data.ids });
  return Response.json({ clones }, { headers: { "Cache-Control": "no-store" } });
}
