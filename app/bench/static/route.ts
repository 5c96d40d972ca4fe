// Baseline for the catalog benchmark's time-to-first-byte: a static response from the same server.
export const dynamic = "force-static";

export function GET() {
  return new Response("ok\n", { headers: { "content-type": "text/plain" } });
}
