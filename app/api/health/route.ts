import { NextResponse } from "next/server";
import { pingDatabase } from "@/db/queries/health";
import { databaseUnavailableBody, RETRY_AFTER_SECONDS } from "@/lib/http/database-unavailable";

// For service managers, load balancers and the error page: is Hangar able to serve? Says nothing
// but up or down, so it needs no sign-in.
export const dynamic = "force-dynamic";

export async function GET() {
  if (await pingDatabase()) return NextResponse.json({ status: "ok" }, { headers: { "Cache-Control": "no-store" } });
  return NextResponse.json(databaseUnavailableBody(), {
    status: 503,
    headers: { "Retry-After": String(RETRY_AFTER_SECONDS), "Cache-Control": "no-store" },
  });
}
