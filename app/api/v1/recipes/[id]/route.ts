import { listRecipeRecords } from "@/db/queries/recipes";
import { saveRecipeAction } from "@/lib/actions/recipe-actions";
import { readRecipeBody, recipeObject, savedRecipeResponse, wantsYaml } from "@/lib/api/build-objects";
import { apiRoute } from "@/lib/api/route";
import { HangarError } from "@/lib/errors";
import { recipeToYaml } from "@/lib/recipes/yaml";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const notFound = () =>
  new HangarError("not_found", "That recipe doesn't exist or is in a project you are not a member of.");

export const GET = apiRoute<{ id: string }>("read", async ({ request, viewer, params, url }) => {
  const [recipe] = await listRecipeRecords({ viewer, id: params.id });
  if (!recipe) throw notFound();
  if (wantsYaml(request, url))
    return new Response(recipeToYaml(recipe.document), {
      headers: { "content-type": "application/yaml; charset=utf-8" },
    });
  return Response.json(recipeObject(recipe));
});

export const PUT = apiRoute<{ id: string }>("write", async ({ request, viewer, params, url }) => {
  const body = await readRecipeBody(request, url);
  // The same bodies as create, so a client may send the project again; it may not move the recipe.
  if (body.project !== undefined) {
    const [recipe] = await listRecipeRecords({ viewer, id: params.id });
    if (recipe && recipe.projectSlug !== body.project)
      throw new HangarError("invalid", `A recipe stays in its project (${recipe.projectSlug}).`, {
        project: ["Leave it out, or give the recipe's own project."],
      });
  }
  const result = await saveRecipeAction(viewer, { recipeId: params.id, document: body.document });
  return savedRecipeResponse(viewer, result, 200);
});
