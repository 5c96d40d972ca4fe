/**
 * Returns `value` when it is a path on this site, otherwise "/". Anything that could leave the
 * origin ("//evil", "/\\evil", "https://…") or loop back to sign-in is refused.
 */
export function safeCallbackUrl(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\"))
    return "/";
  try {
    const base = "http://hangar.invalid";
    const url = new URL(value, base);
    if (url.origin !== base || url.pathname.startsWith("/sign-in") || url.pathname.startsWith("/api/")) return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}
