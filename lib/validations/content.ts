import { z } from "zod";

export const rescanVersionSchema = z.object({
  versionId: z.string().uuid("Say which version to inspect."),
});
