import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { CreateFeedForm, FeedList } from "@/components/feeds/feed-panel";
import { PageHeader } from "@/components/shell/page-header";
import { getProject } from "@/db/queries/projects";
import { listFeedsAction } from "@/lib/actions/feed-actions";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Project feeds" };

export default async function ProjectFeedsPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const viewer = await requireViewer(`/projects/${slug}/feeds`);
  const project = await getProject({ viewer, slug });
  if (!project || !project.can.view) notFound();
  const header = (
    <>
      <PageHeader
        title={`Feeds of ${project.name}`}
        description="A feed hands this project’s published images to platforms (OpenNebula, LXD and Incus, Glance, Terraform) at a URL with a secret in it. Only approved versions are offered; revoking a feed stops it at once."
      />
      <p className="text-sm">
        <Link href={`/projects/${project.slug}`}>Back to {project.name}</Link>
      </p>
    </>
  );
  if (!project.can.manage)
    return (
      <div className="space-y-8">
        {header}
        <p className="text-sm text-muted">
          Only the project&rsquo;s owners make and manage its feeds. Ask one of them for a feed URL.
        </p>
      </div>
    );
  const listed = await listFeedsAction(viewer, { project: project.slug });
  if (!listed.ok) notFound();
  return (
    <div className="space-y-8">
      {header}
      <CreateFeedForm project={{ slug: project.slug, name: project.name }} defaultName={`${project.slug} feed`} />
      <section aria-labelledby="feeds-heading" className="space-y-3">
        <h2 id="feeds-heading" className="text-base font-semibold">
          Project feeds
        </h2>
        <FeedList feeds={listed.data} label="Project feeds" />
      </section>
    </div>
  );
}
