import { z } from "zod";
import { boundedRecipeDocumentSchema } from "@/lib/recipes/yaml";

const id = (what: string) => z.string({ message: `Say which ${what}.` }).uuid(`That is not a valid ${what} id.`);

/** `maxGrowBytes` is the admins' bound (HANGAR_MAX_GROW_SIZE): the server passes its env, a form the value it was given. */
export const saveRecipeSchema = (maxGrowBytes: number) =>
  z.object({
    recipeId: id("recipe").optional(),
    projectId: id("project").optional(),
    document: boundedRecipeDocumentSchema(maxGrowBytes),
  });

export const startBuildSchema = z.object({
  recipeId: id("recipe"),
  revision: z.number().int().min(1).optional(),
  force: z.boolean().default(false),
});

export const cancelBuildSchema = z.object({ buildId: id("build") });

export const retryBuildSchema = z.object({ buildId: id("build") });

export const rebuildSchema = z.object({ versionId: id("version") });
