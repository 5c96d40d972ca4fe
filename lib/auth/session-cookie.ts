// Uploads are served by the supervisor's own HTTP server (scripts/start.ts), outside Next.js, where
// auth() cannot run. This reads Auth.js's session cookie the way Auth.js does (same cookie name,
// chunks, secret and salt), then loads the viewer from the database like every other request, so a
// disabled account is refused at once.
import { decode } from "next-auth/jwt";
import { getViewerById, type Viewer } from "@/db/queries/users";

const SESSION_COOKIE = "authjs.session-token";

/** Auth.js prefixes the name with __Secure- when the app's URL (AUTH_URL, else the request's) is https. */
function sessionCookieName(headers: Headers): string {
  const authUrl = process.env.AUTH_URL ?? process.env.NEXTAUTH_URL;
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  const protocol = authUrl ? new URL(authUrl).protocol : `${forwarded ?? "http"}:`;
  return protocol === "https:" ? `__Secure-${SESSION_COOKIE}` : SESSION_COOKIE;
}

/** A large session is split over `name.0`, `name.1`, …; Auth.js joins the pieces in suffix order. */
function sessionToken(cookieHeader: string | null, name: string): string | undefined {
  const pieces: [number, string][] = [];
  for (const pair of (cookieHeader ?? "").split(";")) {
    const separator = pair.indexOf("=");
    if (separator < 0) continue;
    const key = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    if (!value) continue;
    if (key === name) pieces.push([0, value]);
    else if (key.startsWith(`${name}.`) && /^\d+$/.test(key.slice(name.length + 1))) pieces.push([Number(key.slice(name.length + 1)), value]);
  }
  if (pieces.length === 0) return undefined;
  return pieces
    .sort(([a], [b]) => a - b)
    .map(([, value]) => value)
    .join("");
}

export async function viewerFromSessionCookie({ headers, secret }: { headers: Headers; secret: string }): Promise<Viewer | null> {
  const name = sessionCookieName(headers);
  const token = sessionToken(headers.get("cookie"), name);
  if (!token) return null;
  // A token that is expired, tampered with or sealed with another secret is no session at all.
  const payload = await decode({ token, secret, salt: name }).catch(() => null);
  return typeof payload?.uid === "string" ? getViewerById({ id: payload.uid }) : null;
}
