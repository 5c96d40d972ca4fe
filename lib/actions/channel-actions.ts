import { moveChannel } from "@/db/queries/channels";
import { moveChannelSchema } from "@/lib/validations/channels";
import { queueVersionEvent } from "@/lib/webhooks/events";
import { defineAction } from "./safe-action";

export const moveChannelAction = defineAction(moveChannelSchema, async (input, viewer) => {
  await moveChannel({ viewer, ...input });
  await queueVersionEvent("channel.moved", {
    versionId: input.versionId,
    actorId: viewer.id,
    extra: { channel: input.name },
  });
});
