// Admins lift the sign-in throttle of an account (someone locked out by their own typos, or by a
// guesser). The policy and the audit live in lib/auth/sign-in-guard.ts, shared with the CLI.
import { requireAdmin } from "@/db/queries/access";
import { unlockAccountSignIn } from "@/lib/auth/sign-in-guard";
import { unlockSignInSchema } from "@/lib/validations/sign-in-locks";
import { defineAction } from "./safe-action";

export const unlockSignInAction = defineAction(unlockSignInSchema, async (input, viewer) => {
  requireAdmin(viewer, "unlock sign-in for an account");
  return unlockAccountSignIn({ email: input.email, actorId: viewer.id });
});
