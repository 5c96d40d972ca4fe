import { z } from "zod";

export const moveChannelSchema = z.object({
  imageId: z.string().uuid("Say which image."),
  name: z.string().trim().toLowerCase().min(1, "Name the channel, like stable."),
  versionId: z.string().uuid("Pick a version."),
});
