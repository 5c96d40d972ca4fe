// Next.js calls onRequestError for every error a page, route handler or server action throws. A
// connection error there means PostgreSQL may be gone: have db/health.ts check, so the next
// requests get a clear 503 at once rather than each running into the same error.
export async function onRequestError(error: unknown): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { checkDatabase, isConnectionError } = await import("@/db/health");
  if (isConnectionError(error)) checkDatabase();
}
