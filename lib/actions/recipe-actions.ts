// Recipes and builds as actions: (caller, raw input) → result, with the caller re-checked in the
// data layer on every call. Saving validates the whole document with the editor's schema.
import { z } from "zod";
import { cancelBuild, queueBuild, rebuildOnNewestBase, retryBuild } from "@/db/queries/builds";
import { saveRecipe } from "@/db/queries/recipes";
import { enqueue } from "@/lib/jobs/queue";
import { env } from "@/lib/env";
import { boundedRecipeDocumentSchema } from "@/lib/recipes/yaml";
import { defineAction } from "./safe-action";

const id = (what: string) => z.string({ message: `Say which ${what}.` }).uuid(`That is not a valid ${what} id.`);

export const saveRecipeSchema = z.object({
  recipeId: id("recipe").optional(),
  projectId: id("project").optional(),
  // Read when a request comes, not when the module loads, so the configured bound applies.
  document: z.lazy(() => boundedRecipeDocumentSchema(env().HANGAR_MAX_GROW_SIZE)),
});

const sendBuild = (buildId: string) => enqueue("image.build", { buildId });

export const saveRecipeAction = defineAction(saveRecipeSchema, async (input, viewer) =>
  saveRecipe({ viewer, recipeId: input.recipeId, projectId: input.projectId, document: input.document }),
);

export const startBuildAction = defineAction(
  z.object({ recipeId: id("recipe"), revision: z.number().int().min(1).optional(), force: z.boolean().default(false) }),
  async (input, viewer) => queueBuild({ viewer, recipeId: input.recipeId, revision: input.revision, force: input.force, send: sendBuild }),
);

export const cancelBuildAction = defineAction(z.object({ buildId: id("build") }), async (input, viewer) => cancelBuild({ viewer, buildId: input.buildId }));

export const retryBuildAction = defineAction(z.object({ buildId: id("build") }), async (input, viewer) => retryBuild({ viewer, buildId: input.buildId, send: sendBuild }));

export const rebuildAction = defineAction(z.object({ versionId: id("version") }), async (input, viewer) => rebuildOnNewestBase({ viewer, versionId: input.versionId, send: sendBuild }));
