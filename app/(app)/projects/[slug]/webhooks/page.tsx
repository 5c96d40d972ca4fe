import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { CreateWebhookForm, WebhookList } from "@/components/webhooks/webhook-panel";
import { isAdmin } from "@/db/queries/access";
import { getProject } from "@/db/queries/projects";
import { listWebhooksAction } from "@/lib/actions/webhook-actions";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Project webhooks" };

export default async function ProjectWebhooksPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const viewer = await requireViewer(`/projects/${slug}/webhooks`);
  const project = await getProject({ viewer, slug });
  if (!project || !project.can.manage) notFound();
  const listed = await listWebhooksAction(viewer, { projectId: project.id });
  if (!listed.ok) notFound();
  return (
    <div className="space-y-8">
      <PageHeader
        title={`Webhooks of ${project.name}`}
        description="Signed JSON POSTs when versions land, reviews and releases change, builds run and channels move."
      />
      <p className="text-sm">
        <Link href={`/projects/${project.slug}`}>Back to {project.name}</Link>
      </p>
      <CreateWebhookForm projectId={project.id} canAllowInternal={isAdmin(viewer)} />
      <section aria-labelledby="webhooks-heading" className="space-y-3">
        <h2 id="webhooks-heading" className="text-base font-semibold">
          Webhooks
        </h2>
        <WebhookList webhooks={listed.data} />
      </section>
    </div>
  );
}
