// Runs in front of every page (not /api, whose route handlers check callers themselves and may
// take bodies larger than a proxied request may carry, nor static files, nor the operational
// /healthz, /readyz and /metrics, which the HTTP server answers itself): sets the per-request
// Content-Security-Policy, whose nonce Next.js reads from the request header and puts on its own
// scripts, and refuses page POSTs (server actions) that no Hangar page sent.
import { NextResponse, type NextRequest } from "next/server";
import { contentSecurityPolicy, createNonce, pagePostRefusal } from "@/lib/http/page-guard";

export function proxy(request: NextRequest) {
  const refusal = pagePostRefusal(request);
  if (refusal)
    return new NextResponse(refusal, { status: 403, headers: { "Content-Type": "text/plain; charset=utf-8" } });

  const policy = contentSecurityPolicy(createNonce(), { dev: process.env.NODE_ENV === "development" });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("Content-Security-Policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  matcher: ["/((?!api/|_next/static/|_next/image|icon.svg|favicon.ico|healthz|readyz|metrics).*)"],
};
