import { NextResponse, type NextRequest } from "next/server";
import { z } from "zod";
import { listVisibleTags } from "@/db/queries/images";
import { getViewer } from "@/lib/auth/session";
import { TAG_MAX_LENGTH } from "@/lib/validations/images";

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
  if (!viewer) return NextResponse.json({ error: "Sign in to continue." }, { status: 401 });
  const parsed = querySchema.safeParse({
    prefix: request.nextUrl.searchParams.get("prefix") ?? "",
    limit: request.nextUrl.searchParams.get("limit") ?? undefined,
  });
  if (!parsed.success) {
    return NextResponse.json({ error: parsed.error.issues[0]?.message ?? "The query is not valid." }, { status: 400 });
  }
  const tags = await listVisibleTags({ viewer, ...parsed.data });
  return NextResponse.json({ tags }, { headers: { "Cache-Control": "private, max-age=30" } });
}
