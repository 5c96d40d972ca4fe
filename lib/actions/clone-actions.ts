// Clones as actions: every rule (who may clone where, what may be cloned, quotas) is enforced in
// db/queries/clones.ts and access.ts.
import { z } from "zod";
import { defaultResetOperations, identityResetOperations, requestClone, type IdentityResetOperation } from "@/db/queries/clones";
import { cloneModes } from "@/db/schema";
import { HangarError } from "@/lib/errors";
import { runClone } from "@/lib/clones/engine";
import { enqueue } from "@/lib/jobs/queue";
import { slugSchema, versionLabelSchema } from "@/lib/validations/imports";
import { defineAction } from "./safe-action";

const resetNames = Object.keys(identityResetOperations) as [IdentityResetOperation, ...IdentityResetOperation[]];

export const cloneSchema = z
  .object({
    versionId: z.string().uuid("Say which version to clone."),
    projectId: z.string().uuid("Choose the project the clone goes into."),
    imageId: z.preprocess((value) => (value === "" ? undefined : value), z.string().uuid("Choose an image of the project.").optional()),
    newImageSlug: z.preprocess((value) => (value === "" ? undefined : value), slugSchema.optional()),
    newImageName: z.preprocess((value) => (value === "" ? undefined : value), z.string().trim().min(1).max(120, "A name is at most 120 characters.").optional()),
    version: versionLabelSchema,
    mode: z.enum(cloneModes, { message: "A clone is linked (instant) or full (an independent copy)." }),
    resetIdentity: z.boolean().default(false),
    resetOperations: z.array(z.enum(resetNames, { message: `Identity reset operations are: ${resetNames.join(", ")}.` })).max(resetNames.length).optional(),
  })
  .refine((input) => Boolean(input.imageId) !== Boolean(input.newImageSlug), { message: "Pick an image of the project for the clone, or name a new one (not both).", path: ["imageId"] });

export const cloneVersionAction = defineAction(cloneSchema, async (input, viewer) => {
  const resetOperations = input.resetIdentity ? (input.resetOperations?.length ? input.resetOperations : defaultResetOperations) : [];
  const clone = await requestClone({
    viewer,
    sourceVersionId: input.versionId,
    target: {
      projectId: input.projectId,
      imageId: input.imageId,
      newImage: input.newImageSlug ? { slug: input.newImageSlug, name: input.newImageName ?? input.newImageSlug } : undefined,
      version: input.version,
    },
    mode: input.mode,
    resetOperations,
  });
  if (clone.queue) {
    await enqueue("image.clone", { cloneId: clone.cloneId });
  } else {
    // Nothing to wait for (an overlay, or the source's own bytes): made now, and a refusal at the
    // end (the quota filled meanwhile, the name was taken) is this call's answer.
    const outcome = await runClone({ cloneId: clone.cloneId });
    if (outcome.status === "failed") throw new HangarError("conflict", outcome.reason);
  }
  return { cloneId: clone.cloneId, queued: clone.queue };
});
