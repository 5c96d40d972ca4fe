// Recipes and builds as actions: (caller, raw input) → result, with the caller re-checked in the
// data layer on every call. Saving validates the whole document with the editor's schema.
import { z } from "zod";
import { cancelBuild, queueBuild, rebuildOnNewestBase, retryBuild } from "@/db/queries/builds";
import { saveRecipe } from "@/db/queries/recipes";
import { enqueue } from "@/lib/jobs/queue";
import { env } from "@/lib/env";
import {
  cancelBuildSchema,
  rebuildSchema,
  retryBuildSchema,
  saveRecipeSchema,
  startBuildSchema,
} from "@/lib/validations/recipes";
import { queueBuildEvent } from "@/lib/webhooks/events";
import { defineAction } from "./safe-action";

const sendBuild = (buildId: string) => enqueue("image.build", { buildId });

// Read when a request comes, not when the module loads, so the configured bound applies.
export const saveRecipeAction = defineAction(
  z.lazy(() => saveRecipeSchema(env().HANGAR_MAX_GROW_SIZE)),
  async (input, viewer) =>
    saveRecipe({ viewer, recipeId: input.recipeId, projectId: input.projectId, document: input.document }),
);

export const startBuildAction = defineAction(startBuildSchema, async (input, viewer) =>
  queueBuild({ viewer, recipeId: input.recipeId, revision: input.revision, force: input.force, send: sendBuild }),
);

export const cancelBuildAction = defineAction(cancelBuildSchema, async (input, viewer) => {
  const result = await cancelBuild({ viewer, buildId: input.buildId });
  // A running build is cancelled by its worker, which sends the event when it stops.
  if (result.status === "cancelled")
    await queueBuildEvent("build.cancelled", { buildId: input.buildId, actorId: viewer.id });
  return result;
});

export const retryBuildAction = defineAction(retryBuildSchema, async (input, viewer) =>
  retryBuild({ viewer, buildId: input.buildId, send: sendBuild }),
);

export const rebuildAction = defineAction(rebuildSchema, async (input, viewer) =>
  rebuildOnNewestBase({ viewer, versionId: input.versionId, send: sendBuild }),
);
