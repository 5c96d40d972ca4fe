import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { Notice } from "@/components/shell/notice";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Reviews" };

export default async function ReviewsPage() {
  const viewer = await requireViewer("/reviews");
  if (viewer.role !== "admin") forbidden();
  return (
    <Notice title="Reviews">
      <p>Here admins will approve or reject new and customized versions, with a reason, before anyone else can use them.</p>
    </Notice>
  );
}
