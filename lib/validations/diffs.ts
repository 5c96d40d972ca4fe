import { z } from "zod";

export const requestFileDiffSchema = z.object({
  fromVersionId: z.string().uuid("Pick the version to compare from."),
  toVersionId: z.string().uuid("Pick the version to compare with."),
});

export const cancelFileDiffSchema = z.object({
  diffId: z.string().uuid("Say which comparison to cancel."),
});
