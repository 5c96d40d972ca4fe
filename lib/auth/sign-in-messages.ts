// A throttled sign-in travels to the sign-in page as Auth.js's CredentialsSignin `code` (in the
// thrown error for the form's server action, as ?code= after a redirect for a plain POST), so the
// retry time is encoded in it. Pure functions: the page, the form's action and the guard share them.
export type ThrottleScope = "account" | "address";

const throttledPattern = /^too_many_attempts:(account|address):(\d{1,7})$/;

export function throttledCode(scope: ThrottleScope, retryAfterSeconds: number): string {
  return `too_many_attempts:${scope}:${Math.max(1, Math.ceil(retryAfterSeconds))}`;
}

function waitWords(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** The sentence for a throttled code, or null when the code is something else. */
export function throttledMessage(code: string | undefined): string | null {
  const match = code ? throttledPattern.exec(code) : null;
  if (!match) return null;
  const wait = waitWords(Number(match[2]));
  return match[1] === "account"
    ? `Too many failed sign-ins for this account. Try again in ${wait}, or ask an admin to unlock it.`
    : `Too many failed sign-ins from your network address. Try again in ${wait}.`;
}
