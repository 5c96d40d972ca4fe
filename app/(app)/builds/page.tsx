import type { Metadata } from "next";
import { Notice } from "@/components/shell/notice";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Builds" };

export default async function BuildsPage() {
  await requireViewer("/builds");
  return (
    <Notice title="Builds">
      <p>Here you will follow recipe builds: their live logs, per-step progress and the versions they produce, and cancel or retry them.</p>
    </Notice>
  );
}
