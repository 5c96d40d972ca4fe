import { z } from "zod";
import { cloneModes, identityResetOperations, type IdentityResetOperation } from "@/db/enums";
import { slugSchema, versionLabelSchema } from "./imports";

const resetNames = Object.keys(identityResetOperations) as [IdentityResetOperation, ...IdentityResetOperation[]];

const emptyToUndefined = (value: unknown) => (value === "" ? undefined : value);

export const cloneVersionSchema = z
  .object({
    versionId: z.string().uuid("Say which version to clone."),
    projectId: z.string().uuid("Choose the project the clone goes into."),
    imageId: z.preprocess(emptyToUndefined, z.string().uuid("Choose an image of the project.").optional()),
    newImageSlug: z.preprocess(emptyToUndefined, slugSchema.optional()),
    newImageName: z.preprocess(
      emptyToUndefined,
      z.string().trim().min(1).max(120, "A name is at most 120 characters.").optional(),
    ),
    version: versionLabelSchema,
    mode: z.enum(cloneModes, { message: "A clone is linked (instant) or full (an independent copy)." }),
    resetIdentity: z.boolean().default(false),
    resetOperations: z
      .array(z.enum(resetNames, { message: `Identity reset operations are: ${resetNames.join(", ")}.` }))
      .max(resetNames.length)
      .optional(),
  })
  .refine((input) => Boolean(input.imageId) !== Boolean(input.newImageSlug), {
    message: "Pick an image of the project for the clone, or name a new one (not both).",
    path: ["imageId"],
  });
