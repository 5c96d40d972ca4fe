import { z } from "zod";
import { releaseActions } from "@/lib/governance/release";

export const changeReleaseSchema = z.object({
  versionId: z.string().uuid("Say which version."),
  action: z.enum(releaseActions, { message: `The action is one of: ${releaseActions.join(", ")}.` }),
  reason: z.string().max(2000, "A reason is at most 2000 characters.").optional(),
  replacementVersionId: z.preprocess(
    (value) => (value === "" ? null : value),
    z.string().uuid("Pick the replacement from the list.").nullable().optional(),
  ),
  at: z.preprocess(
    (value) => (value === "" || value === null ? undefined : value),
    z.coerce.date({ message: "The date is not a valid date and time." }).optional(),
  ),
});

export const deleteVersionSchema = z.object({ versionId: z.string().uuid("Say which version.") });
