// Release changes as an action: (caller, raw input) → result. Who may do what, the four-eyes rule
// and legal transitions are all checked in db/queries/releases.ts, never only in the page.
import { z } from "zod";
import { changeReleaseStatus, deleteVersion } from "@/db/queries/releases";
import { releaseActions } from "@/lib/governance/release";
import { defineAction } from "./safe-action";

export const releaseChangeSchema = z.object({
  versionId: z.string().uuid("Say which version."),
  action: z.enum(releaseActions, { message: `The action is one of: ${releaseActions.join(", ")}.` }),
  reason: z.string().max(2000, "A reason is at most 2000 characters.").optional(),
  replacementVersionId: z.preprocess((value) => (value === "" ? null : value), z.string().uuid("Pick the replacement from the list.").nullable().optional()),
  at: z.preprocess(
    (value) => (value === "" || value === null ? undefined : value),
    z.coerce.date({ message: "The date is not a valid date and time." }).optional(),
  ),
});

export const changeReleaseAction = defineAction(releaseChangeSchema, async (input, viewer) => changeReleaseStatus({ viewer, change: input }));

export const deleteVersionAction = defineAction(z.object({ versionId: z.string().uuid("Say which version.") }), async (input, viewer) => deleteVersion({ viewer, versionId: input.versionId }));
