import { z } from "zod";

export const unlockSignInSchema = z.object({
  email: z.string().trim().toLowerCase().email("Say which account to unlock, by its email address.").max(254),
});
