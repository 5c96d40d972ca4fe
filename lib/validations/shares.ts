import { z } from "zod";

export const offerShareSchema = z.object({
  imageId: z.string().uuid("Say which image to share."),
  projectSlug: z.string().trim().min(1, "Enter the short name of the project to share with.").max(80),
});

export const answerShareSchema = z.object({
  imageId: z.string().uuid("Say which share."),
  projectId: z.string().uuid("Say which project."),
  accept: z.boolean(),
});

export const withdrawShareSchema = z.object({
  imageId: z.string().uuid("Say which image."),
  projectId: z.string().uuid("Say which project."),
});
