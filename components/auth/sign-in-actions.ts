"use server";

import { AuthError, CredentialsSignin } from "next-auth";
import { signIn } from "@/lib/auth/config";
import { authErrorMessage } from "./auth-error-message";
import { safeCallbackUrl } from "./callback-url";

export interface SignInState {
  error: string | null;
  email: string;
}

export async function signInWithPasswordAction(_previous: SignInState, formData: FormData): Promise<SignInState> {
  const email = String(formData.get("email") ?? "");
  const password = String(formData.get("password") ?? "");
  if (!email.trim() || !password) return { error: "Enter your email and your password.", email };
  try {
    await signIn("credentials", { email, password, redirectTo: safeCallbackUrl(formData.get("callbackUrl")) });
  } catch (error) {
    // A successful sign-in ends in a redirect, which Next.js implements as a thrown error: only
    // Auth.js's own errors are a failed attempt, everything else must keep travelling.
    if (error instanceof CredentialsSignin) return { error: authErrorMessage("CredentialsSignin", error.code), email };
    if (error instanceof AuthError) return { error: "Signing in failed on the server. Try again in a moment.", email };
    throw error;
  }
  return { error: null, email };
}

export async function signInWithOidcAction(formData: FormData): Promise<void> {
  await signIn("oidc", { redirectTo: safeCallbackUrl(formData.get("callbackUrl")) });
}
