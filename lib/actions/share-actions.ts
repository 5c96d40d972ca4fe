// Shares as actions: who offers and who accepts a share is enforced in db/queries/shares.ts and
// access.ts.
import { answerShare, offerShare, withdrawShare } from "@/db/queries/shares";
import { answerShareSchema, offerShareSchema, withdrawShareSchema } from "@/lib/validations/shares";
import { defineAction } from "./safe-action";

export const offerShareAction = defineAction(offerShareSchema, async (input, viewer) =>
  offerShare({ viewer, ...input }),
);

export const answerShareAction = defineAction(answerShareSchema, async (input, viewer) =>
  answerShare({ viewer, ...input }),
);

export const withdrawShareAction = defineAction(withdrawShareSchema, async (input, viewer) =>
  withdrawShare({ viewer, ...input }),
);
