// What every page response carries and every page POST must prove, decided in one place for
// proxy.ts: a Content-Security-Policy with a fresh nonce per request, and the refusal of
// state-changing requests (server actions) that don't come from one of Hangar's own pages.
// Plain functions over web Request/Headers so they are tested without a running Next.js.

/** 128 random bits, base64: unguessable, and new for every response. */
export function createNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
}

/**
 * Scripts run only with this response's nonce ('strict-dynamic' lets those load the chunks they
 * import); no inline script, eval (except next dev's), plugin, foreign base, form target or framing.
 * Stylesheets and <style> elements need 'self' or the nonce. Style *attributes* stay allowed
 * (style-src-attr): React renders `style={{…}}` props (progress bars, the lineage graph's node
 * positions from React Flow) as attributes in server HTML, and an attribute can't select or load
 * anything, unlike a <style> element.
 */
export function contentSecurityPolicy(nonce: string, { dev = false }: { dev?: boolean } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a page request must be refused, or null when it may go on. Server actions are POSTs to page
 * URLs. Next.js compares Origin with Host when Origin is there but lets a POST without one
 * through; browsers send Origin on every POST, so a POST without it did not come from a page.
 * The host is Next's: X-Forwarded-Host when a reverse proxy set it, else Host.
 */
export function pagePostRefusal(request: Request): string | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") {
    return "Refused: this request carries no Origin header, so it can't be told apart from a forged one. Submit the form from a Hangar page in a browser.";
  }
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (!host || originHost !== host) {
    return `Refused: this request comes from ${origin}, not from this Hangar (${host ?? "unknown host"}). Submit the form from a Hangar page.`;
  }
  return null;
}
