import type { Metadata } from "next";
import { ForbiddenNotice } from "@/components/shell/notice";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Not allowed" };

export default async function ForbiddenPage() {
  await requireViewer("/forbidden");
  return <ForbiddenNotice />;
}
