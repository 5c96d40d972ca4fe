import type { Metadata } from "next";
import { ImportWorkspace } from "@/components/imports/import-workspace";
import { PageHeader } from "@/components/shell/page-header";
import { listWritableImages } from "@/db/queries/images";
import { listProjectsForImport } from "@/db/queries/projects";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Import" };

export default async function ImportPage({ searchParams }: { searchParams: Promise<{ image?: string | string[] }> }) {
  const { image } = await searchParams;
  const viewer = await requireViewer(
    `/import${typeof image === "string" ? `?image=${encodeURIComponent(image)}` : ""}`,
  );
  const [images, projects] = await Promise.all([listWritableImages({ viewer }), listProjectsForImport({ viewer })]);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Import an image"
        description="Upload a disk image from your computer (it resumes if the connection drops) or import one from a URL. Hangar inspects every byte as it arrives, refuses unsafe or mislabelled files with the reason, and stores the rest by checksum."
      />
      <ImportWorkspace images={images} projects={projects} selectedSlug={typeof image === "string" ? image : null} />
    </div>
  );
}
