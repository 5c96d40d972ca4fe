// Uploads are served by the supervisor's own HTTP server (scripts/start.ts), outside Next.js, where
// auth() cannot run. Auth.js's getToken() reads its session cookie here (cookie name, chunks and
// salt as Auth.js writes them), then the viewer is loaded from the database like every other
// request, so a disabled account is refused at once.
import { getToken } from "next-auth/jwt";
import { getViewerById, type Viewer } from "@/db/queries/users";
import { env } from "@/lib/env";

/** Auth.js uses __Secure- cookies when the app's URL (AUTH_URL, else the request's) is https. */
function usesSecureCookie(headers: Headers): boolean {
  const authUrl = env().AUTH_URL;
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  const protocol = authUrl ? new URL(authUrl).protocol : `${forwarded ?? "http"}:`;
  return protocol === "https:";
}

export async function viewerFromSessionCookie({
  headers,
  secret,
}: {
  headers: Headers;
  secret: string;
}): Promise<Viewer | null> {
  // Only the cookie: getToken would also take a bearer token from an Authorization header.
  const req = { headers: new Headers({ cookie: headers.get("cookie") ?? "" }) };
  // A token that is expired, tampered with or sealed with another secret is no session at all (null).
  const payload = await getToken({ req, secret, secureCookie: usesSecureCookie(headers) }).catch(() => null);
  return typeof payload?.uid === "string" ? getViewerById({ id: payload.uid }) : null;
}
