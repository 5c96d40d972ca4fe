import { z } from "zod";
import { convertibleFormats } from "@/db/enums";

export const requestConversionSchema = z.object({
  versionId: z.string().uuid("That version id is not valid."),
  format: z.enum(convertibleFormats, { message: `Convert to one of: ${convertibleFormats.join(", ")}.` }),
});
