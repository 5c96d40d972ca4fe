import { moveChannel } from "@/db/queries/channels";
import { moveChannelSchema } from "@/lib/validations/channels";
import { defineAction } from "./safe-action";

export const moveChannelAction = defineAction(moveChannelSchema, async (input, viewer) =>
  moveChannel({ viewer, ...input }),
);
