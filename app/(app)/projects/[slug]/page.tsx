import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AddMemberForm, CancelInvitationButton, MemberControls, QuotaForm } from "@/components/projects/project-forms";
import { PageHeader } from "@/components/shell/page-header";
import { formatBytes } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { BuildsTable } from "@/components/builds/builds-table";
import { CloneList } from "@/components/clones/clone-list";
import { ShareAnswer } from "@/components/images/share-panel";
import { listBuilds } from "@/db/queries/builds";
import { listClones } from "@/db/queries/clones";
import { StorageChart } from "@/components/projects/storage-chart";
import { getProject, getStorageBreakdown } from "@/db/queries/projects";
import { listIncomingShares } from "@/db/queries/shares";
import { listActiveAccounts } from "@/db/queries/users";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Project" };

export default async function ProjectPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const viewer = await requireViewer(`/projects/${slug}`);
  const project = await getProject({ viewer, slug });
  if (!project) notFound();
  const [incoming, projectClones, projectBuilds, people, storage] = await Promise.all([
    listIncomingShares({ viewer, projectId: project.id }),
    listClones({ viewer, projectId: project.id, limit: 20 }),
    listBuilds({ viewer, projectId: project.id, limit: 10 }),
    project.can.manage ? listActiveAccounts() : Promise.resolve([]),
    getStorageBreakdown({ projectId: project.id }),
  ]);
  const percent =
    project.quotaBytes > 0 ? Math.min(100, Math.round((project.usedBytes / project.quotaBytes) * 100)) : 100;
  return (
    <div className="space-y-8">
      <PageHeader title={project.name} description={project.description || `Your role: ${project.role ?? "admin"}`} />
      <p className="flex gap-4 text-sm">
        {project.can.manage ? <Link href={`/projects/${project.slug}/webhooks`}>Webhooks</Link> : null}
        <Link href={`/projects/${project.slug}/tokens`}>Tokens</Link>
        <Link href={`/projects/${project.slug}/feeds`}>Feeds</Link>
      </p>
      <section aria-labelledby="storage-heading" className="space-y-2">
        <h2 id="storage-heading" className="text-base font-semibold">
          Storage
        </h2>
        <div
          role="progressbar"
          aria-label="Storage used of quota"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          className="h-2 max-w-xl overflow-hidden rounded-full bg-raised"
        >
          <div className={percent >= 90 ? "h-full bg-danger" : "h-full bg-accent"} style={{ width: `${percent}%` }} />
        </div>
        <p className="text-sm">
          {formatBytes(project.usedBytes)} used of {formatBytes(project.quotaBytes)} ({percent}%)
        </p>
        <StorageChart breakdown={storage} quotaBytes={project.quotaBytes} />
        {project.can.setQuota ? (
          <QuotaForm projectId={project.id} quotaGiB={Math.round((project.quotaBytes / 1024 ** 3) * 100) / 100} />
        ) : null}
      </section>

      <section aria-labelledby="members-heading" className="space-y-3">
        <h2 id="members-heading" className="text-base font-semibold">
          Members
        </h2>
        <Table label="Members">
          <thead>
            <tr>
              <Th>Person</Th>
              <Th>Role</Th>
            </tr>
          </thead>
          <tbody>
            {project.members.map((member) => (
              <Tr key={member.userId}>
                <Td>
                  {member.name ? `${member.name} · ` : ""}
                  {member.email}
                </Td>
                <Td>
                  {project.can.manage ? (
                    <MemberControls
                      projectId={project.id}
                      email={member.email}
                      userId={member.userId}
                      role={member.role}
                    />
                  ) : (
                    member.role
                  )}
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
        {project.invitations.length ? (
          <ul aria-label="Invitations" className="space-y-1.5 text-sm">
            {project.invitations.map((invitation) => (
              <li key={invitation.email} className="flex flex-wrap items-center gap-3">
                <span>
                  {invitation.email}{" "}
                  <span className="text-muted">invited as {invitation.role}, joins at first sign-in</span>
                </span>
                <CancelInvitationButton projectId={project.id} email={invitation.email} />
              </li>
            ))}
          </ul>
        ) : null}
        {project.can.manage ? (
          <AddMemberForm
            projectId={project.id}
            people={people.filter((person) => !project.members.some((member) => member.email === person.email))}
          />
        ) : null}
      </section>

      <section aria-labelledby="shared-heading" className="space-y-2">
        <h2 id="shared-heading" className="text-base font-semibold">
          Shared with this project
        </h2>
        {incoming.length ? (
          <ul className="space-y-2 text-sm">
            {incoming.map((share) => (
              <li
                key={share.imageId}
                className="flex flex-wrap items-center justify-between gap-3 rounded-md border border-line p-3"
              >
                <span>
                  {share.status === "accepted" ? (
                    <Link href={`/images/${share.imageSlug}`}>{share.imageName}</Link>
                  ) : (
                    <span className="font-medium">{share.imageName}</span>
                  )}{" "}
                  <span className="text-muted">
                    from {share.fromProject}
                    {share.offeredBy ? `, offered by ${share.offeredBy}` : ""} ·{" "}
                    {share.status === "pending" ? "waiting for an owner to accept" : "accepted"}
                  </span>
                </span>
                {share.status === "pending" && project.can.manage ? <ShareAnswer share={share} /> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-muted">
            Nothing is shared with this project. Owners of other projects can share images with it by its short name,{" "}
            {project.slug}.
          </p>
        )}
      </section>

      <section aria-labelledby="clones-heading" className="space-y-2">
        <h2 id="clones-heading" className="text-base font-semibold">
          Clones
        </h2>
        <CloneList
          initial={projectClones}
          query={`projectId=${project.id}`}
          empty="No clones yet. Clone an approved version into this project from its version page."
        />
      </section>

      <div className="grid gap-8 lg:grid-cols-2">
        <section aria-labelledby="images-heading" className="space-y-2">
          <h2 id="images-heading" className="text-base font-semibold">
            Images
          </h2>
          {project.images.length ? (
            <ul className="space-y-1 text-sm">
              {project.images.map((image) => (
                <li key={image.slug}>
                  <Link href={`/images/${image.slug}`}>{image.name}</Link>{" "}
                  <span className="text-muted">
                    {image.latestVersion ?? "no version yet"} · {image.versionCount} version
                    {image.versionCount === 1 ? "" : "s"} · {image.visibility}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-muted">No images yet.</p>
          )}
        </section>
        <section aria-labelledby="recipes-heading" className="space-y-2">
          <h2 id="recipes-heading" className="text-base font-semibold">
            Recipes
          </h2>
          {project.recipes.length ? (
            <ul className="space-y-1 text-sm">
              {project.recipes.map((recipe) => (
                <li key={recipe.id}>
                  <Link href={`/recipes/${recipe.id}`}>{recipe.name}</Link>{" "}
                  <span className="text-muted">r{recipe.latestRevision}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-muted">No recipes yet.</p>
          )}
        </section>
      </div>

      <section aria-labelledby="builds-heading" className="space-y-2">
        <h2 id="builds-heading" className="text-base font-semibold">
          Recent builds
        </h2>
        {projectBuilds.length ? (
          <BuildsTable builds={projectBuilds} label="Recent builds of this project" />
        ) : (
          <p className="text-sm text-muted">No builds yet.</p>
        )}
      </section>
    </div>
  );
}
