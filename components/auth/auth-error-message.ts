// Auth.js sends people back to the sign-in page with ?error=<code>; each code becomes a sentence
// that says what happened and what to do about it.
import { throttledMessage } from "@/lib/auth/sign-in-messages";

const messages: Record<string, string> = {
  CredentialsSignin: "Wrong email or password.",
  OAuthAccountNotLinked:
    "An account with this email already exists with a password. Sign in with your email and password instead, or ask an admin to link the accounts.",
  AccessDenied:
    "Your account may not sign in: it is disabled or not allowed. Ask an admin if you think this is a mistake.",
  Configuration:
    "Sign-in is not configured correctly on the server. Tell an admin; signing in with a password may still work.",
  Verification: "That sign-in link has expired or was already used. Start again.",
  OAuthSignin: "Hangar could not reach the single sign-on provider. Try again in a moment.",
  OAuthCallback:
    "The single sign-on provider's answer could not be used. Try again; tell an admin if it keeps happening.",
  OAuthCallbackError:
    "The single sign-on provider's answer could not be used. Try again; tell an admin if it keeps happening.",
  OAuthCreateAccount: "Your account could not be created from the single sign-on provider. Tell an admin.",
  Callback: "Signing in could not be completed. Try again.",
  SessionRequired: "Sign in to continue.",
};

/** `detail` is Auth.js's ?code= beside ?error=CredentialsSignin: a throttled attempt says when to retry. */
export function authErrorMessage(code: string | undefined, detail?: string): string | null {
  if (!code) return null;
  if (code === "CredentialsSignin") return throttledMessage(detail) ?? messages.CredentialsSignin!;
  return messages[code] ?? "Signing in did not work. Try again; tell an admin if it keeps happening.";
}
