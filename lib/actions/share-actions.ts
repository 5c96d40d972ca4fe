// Shares as actions: who offers and who accepts a share is enforced in db/queries/shares.ts and
// access.ts.
import { z } from "zod";
import { answerShare, offerShare, withdrawShare } from "@/db/queries/shares";
import { defineAction } from "./safe-action";

export const offerShareAction = defineAction(
  z.object({ imageId: z.string().uuid("Say which image to share."), projectSlug: z.string().trim().min(1, "Enter the short name of the project to share with.").max(80) }),
  async (input, viewer) => offerShare({ viewer, ...input }),
);

export const answerShareAction = defineAction(
  z.object({ imageId: z.string().uuid("Say which share."), projectId: z.string().uuid("Say which project."), accept: z.boolean() }),
  async (input, viewer) => answerShare({ viewer, ...input }),
);

export const withdrawShareAction = defineAction(
  z.object({ imageId: z.string().uuid("Say which image."), projectId: z.string().uuid("Say which project.") }),
  async (input, viewer) => withdrawShare({ viewer, ...input }),
);
