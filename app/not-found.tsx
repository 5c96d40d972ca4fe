import type { Metadata } from "next";
import { connection } from "next/server";
import { Notice } from "@/components/shell/notice";

export const metadata: Metadata = { title: "Not found" };

// Rendered per request, not prerendered: Next.js puts the Content-Security-Policy nonce (proxy.ts)
// on its scripts only when it renders, and a prerendered page's scripts would be blocked.
export default async function NotFound() {
  await connection();
  return (
    <main id="main" className="px-4 py-6">
      <Notice title="This page doesn't exist">
        <p>The address may be mistyped, or what it pointed to was removed or is not visible to you.</p>
      </Notice>
    </main>
  );
}
