import type { Metadata } from "next";
import { Notice } from "@/components/shell/notice";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Projects" };

export default async function ProjectsPage() {
  await requireViewer("/projects");
  return (
    <Notice title="Projects">
      <p>Here you will see your teams: their members and roles, their images and clones, and how much of their storage quota is used.</p>
    </Notice>
  );
}
