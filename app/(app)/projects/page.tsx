import type { Metadata } from "next";
import Link from "next/link";
import { CreateProjectForm } from "@/components/projects/project-forms";
import { PageHeader } from "@/components/shell/page-header";
import { formatBytes } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { listProjects } from "@/db/queries/projects";
import { requireViewer } from "@/lib/auth/session";
import { isAdmin } from "@/db/queries/access";

export const metadata: Metadata = { title: "Projects" };

export default async function ProjectsPage() {
  const viewer = await requireViewer("/projects");
  const projects = await listProjects({ viewer });
  return (
    <div className="space-y-6">
      <PageHeader
        title="Projects"
        description="Teams: their members and roles, images, recipes and how much of their storage quota is used."
      />
      {projects.length ? (
        <Table label="Projects">
          <thead>
            <tr>
              <Th>Project</Th>
              <Th>Your role</Th>
              <Th className="text-right">Members</Th>
              <Th className="text-right">Images</Th>
              <Th className="text-right">Storage used</Th>
            </tr>
          </thead>
          <tbody>
            {projects.map((project) => (
              <Tr key={project.id}>
                <Td>
                  <Link href={`/projects/${project.slug}`} className="font-medium">
                    {project.name}
                  </Link>
                </Td>
                <Td>{project.role ?? (isAdmin(viewer) ? "admin" : "—")}</Td>
                <Td className="text-right">{project.memberCount}</Td>
                <Td className="text-right">{project.imageCount}</Td>
                <Td className="text-right">
                  {formatBytes(project.usedBytes)} of {formatBytes(project.quotaBytes)}
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <p className="rounded-lg border border-line bg-surface p-6 text-muted">
          You are not in a project yet. Create one, or ask a project owner to add you.
        </p>
      )}
      <section aria-labelledby="new-project" className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <h2 id="new-project" className="text-sm font-semibold">
          New project
        </h2>
        <CreateProjectForm />
      </section>
    </div>
  );
}
