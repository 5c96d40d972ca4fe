import { z } from "zod";
import { listProjects } from "@/db/queries/projects";
import { listRecipeRecords } from "@/db/queries/recipes";
import { saveRecipeAction } from "@/lib/actions/recipe-actions";
import { readRecipeBody, recipeObject, savedRecipeResponse } from "@/lib/api/build-objects";
import { pageResponse, readPageQuery } from "@/lib/api/paging";
import { pageQuerySchema } from "@/lib/api/openapi/common";
import { apiRoute } from "@/lib/api/route";
import { HangarError } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const listQuerySchema = pageQuerySchema.extend({ project: z.string().max(100).optional() });

export const GET = apiRoute("read", async ({ viewer, url }) => {
  const { query, after, limit } = readPageQuery<typeof listQuerySchema, { position: string; id: string }>(
    url,
    listQuerySchema,
    "recipes",
  );
  const rows = await listRecipeRecords({ viewer, projectSlug: query.project, after, limit: limit + 1 });
  return pageResponse(rows, limit, recipeObject, "recipes", (row) => ({ position: row.position, id: row.id }));
});

export const POST = apiRoute("write", async ({ request, viewer, url }) => {
  const body = await readRecipeBody(request, url);
  if (!body.project)
    throw new HangarError("invalid", "Say which project the recipe belongs in: ?project=SLUG, or “project” in JSON.", {
      project: ["Give the project's slug."],
    });
  const [project] = await listProjects({ viewer, slug: body.project });
  const result = await saveRecipeAction(viewer, { projectId: project?.id, document: body.document });
  return savedRecipeResponse(viewer, result, 201);
});
