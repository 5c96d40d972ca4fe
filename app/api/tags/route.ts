import { NextResponse, type NextRequest } from "next/server";
import { z } from "zod";
import { listVisibleTags } from "@/db/queries/images";
import { getViewer } from "@/lib/auth/session";
import { TAG_MAX_LENGTH } from "@/lib/validations/images";
import { errorResponse, fieldErrorsOf } from "@/lib/errors";

const querySchema = z.object({
  prefix: z
    .string()
    .trim()
    .toLowerCase()
    .min(1, "Give the start of a tag as ?prefix=.")
    .max(TAG_MAX_LENGTH, `A tag is at most ${TAG_MAX_LENGTH} characters.`),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

// Suggestions come from the images the caller sees: a tag only private images of other projects
// carry (say `jupyter` or `gpu`) tells what those projects build.
export async function GET(request: NextRequest) {
  const viewer = await getViewer();
  if (!viewer) return errorResponse("unauthenticated", "Sign in to continue.");
  const parsed = querySchema.safeParse({
    prefix: request.nextUrl.searchParams.get("prefix") ?? "",
    limit: request.nextUrl.searchParams.get("limit") ?? undefined,
  });
  if (!parsed.success) {
    return errorResponse("invalid", parsed.error.issues[0]?.message ?? "The query is not valid.", {
      fields: fieldErrorsOf(parsed.error),
    });
  }
  const tags = await listVisibleTags({ viewer, ...parsed.data });
  return NextResponse.json({ tags }, { headers: { "Cache-Control": "private, max-age=30" } });
}
