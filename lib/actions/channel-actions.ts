import { z } from "zod";
import { moveChannel } from "@/db/queries/channels";
import { defineAction } from "./safe-action";

export const moveChannelAction = defineAction(
  z.object({
    imageId: z.string().uuid("Say which image."),
    name: z.string().trim().toLowerCase().min(1, "Name the channel, like stable."),
    versionId: z.string().uuid("Pick a version."),
  }),
  async (input, viewer) => moveChannel({ viewer, ...input }),
);
