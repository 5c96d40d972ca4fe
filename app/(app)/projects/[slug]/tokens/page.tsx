import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { tokenExpiryChoices } from "@/components/tokens/expiry-choices";
import { CreateTokenForm, TokenList } from "@/components/tokens/token-panel";
import { canMakeProjectToken } from "@/db/queries/access";
import { getProject } from "@/db/queries/projects";
import { listApiTokensAction } from "@/lib/actions/token-actions";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Project tokens" };

export default async function ProjectTokensPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const viewer = await requireViewer(`/projects/${slug}/tokens`);
  const project = await getProject({ viewer, slug });
  if (!project || !project.can.view) notFound();
  const listed = await listApiTokensAction(viewer, { project: project.slug });
  if (!listed.ok) notFound();
  return (
    <div className="space-y-8">
      <PageHeader
        title={`Tokens of ${project.name}`}
        description="Project tokens reach only this project: for CI that pushes, builds or reads its images. Each acts as the owner who made it, never beyond this project."
      />
      <p className="text-sm">
        <Link href={`/projects/${project.slug}`}>Back to {project.name}</Link>
      </p>
      {canMakeProjectToken(viewer, project.id) ? (
        <CreateTokenForm
          project={{ slug: project.slug, name: project.name }}
          scopes={[
            { scope: "read", label: "read: as a viewer of this project" },
            { scope: "write", label: `write: as you in this project (${project.role})` },
          ]}
          {...tokenExpiryChoices()}
        />
      ) : (
        <p className="text-sm text-muted">Only the project&rsquo;s owners make project tokens.</p>
      )}
      <section aria-labelledby="tokens-heading" className="space-y-3">
        <h2 id="tokens-heading" className="text-base font-semibold">
          Project tokens
        </h2>
        <TokenList tokens={listed.data} label="Project tokens" showOwner />
      </section>
    </div>
  );
}
