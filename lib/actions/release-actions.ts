// Release changes as an action: (caller, raw input) → result. Who may do what, the four-eyes rule
// and legal transitions are all checked in db/queries/releases.ts, never only in the page.
import { changeReleaseStatus, deleteVersion } from "@/db/queries/releases";
import { changeReleaseSchema, deleteVersionSchema } from "@/lib/validations/releases";
import { defineAction } from "./safe-action";

export const changeReleaseAction = defineAction(changeReleaseSchema, async (input, viewer) =>
  changeReleaseStatus({ viewer, change: input }),
);

export const deleteVersionAction = defineAction(deleteVersionSchema, async (input, viewer) =>
  deleteVersion({ viewer, versionId: input.versionId }),
);
