import type { Metadata } from "next";
import { Notice } from "@/components/shell/notice";

export const metadata: Metadata = { title: "Not found" };

export default function NotFound() {
  return (
    <main id="main" className="px-4 py-6">
      <Notice title="This page doesn't exist">
        <p>The address may be mistyped, or what it pointed to was removed or is not visible to you.</p>
      </Notice>
    </main>
  );
}
