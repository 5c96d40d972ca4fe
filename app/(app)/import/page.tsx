import type { Metadata } from "next";
import { Notice } from "@/components/shell/notice";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Import" };

export default async function ImportPage() {
  await requireViewer("/import");
  return (
    <Notice title="Import an image">
      <p>
        Here you will upload a disk image from your computer (resumable, with progress) or import one from a URL. Hangar inspects,
        hashes and stores it, then lists it in the catalog.
      </p>
    </Notice>
  );
}
