import type { Metadata } from "next";
import Link from "next/link";
import { BuildsTable } from "@/components/builds/builds-table";
import { PageHeader } from "@/components/shell/page-header";
import { listBuilds } from "@/db/queries/builds";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Builds" };

export default async function BuildsPage() {
  const viewer = await requireViewer("/builds");
  const builds = await listBuilds({ viewer });
  return (
    <div>
      <PageHeader
        title="Builds"
        description="Every build of the recipes in your projects, newest first. Open one to watch its log live."
      />
      {builds.length ? (
        <BuildsTable builds={builds} />
      ) : (
        <p className="rounded-lg border border-line bg-surface p-6 text-muted">
          No builds yet. Open a <Link href="/recipes">recipe</Link> and choose Build.
        </p>
      )}
    </div>
  );
}
