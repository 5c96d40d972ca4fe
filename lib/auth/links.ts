import { env } from "@/lib/env";

/** Every URL Hangar hands out starts with the one configured origin (AUTH_URL, else http://localhost:PORT). */
export function publicUrl(pathname: string): string {
  return new URL(pathname, env().origin).toString();
}

export function setPasswordUrl(token: string): string {
  return publicUrl(`/set-password/${encodeURIComponent(token)}`);
}
