// Admins lift the sign-in throttle of an account (someone locked out by their own typos, or by a
// guesser). The policy and the audit live in lib/auth/sign-in-guard.ts, shared with the CLI.
import { z } from "zod";
import { requireAdmin } from "@/db/queries/access";
import { unlockAccountSignIn } from "@/lib/auth/sign-in-guard";
import { defineAction } from "./safe-action";

export const unlockSignInSchema = z.object({
  email: z.string().trim().toLowerCase().email("Say which account to unlock, by its email address.").max(254),
});

export const unlockSignInAction = defineAction(unlockSignInSchema, async (input, viewer) => {
  requireAdmin(viewer, "unlock sign-in for an account");
  return unlockAccountSignIn({ email: input.email, actorId: viewer.id });
});
