// Which formats convert is decided by the converter (lib/imports/convert.ts, server only), so this
// module is for the server only too; the download panel offers just those formats.
import { z } from "zod";
import { convertibleFormats } from "@/lib/imports/convert";

export const requestConversionSchema = z.object({
  versionId: z.string().uuid("That version id is not valid."),
  format: z.enum(convertibleFormats, { message: `Convert to one of: ${convertibleFormats.join(", ")}.` }),
});
