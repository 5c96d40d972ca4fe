import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { TokenList } from "@/components/tokens/token-panel";
import { isAdmin } from "@/db/queries/access";
import { listAllApiTokensAction } from "@/lib/actions/token-actions";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "All access tokens" };

export default async function AdminTokensPage() {
  const viewer = await requireViewer("/admin/tokens");
  if (!isAdmin(viewer)) forbidden();
  const listed = await listAllApiTokensAction(viewer, {});
  if (!listed.ok) forbidden();
  return (
    <div className="space-y-8">
      <PageHeader
        title="All access tokens"
        description="Every personal and project token, newest first. Revoking one stops it at once; its owner makes a new one."
      />
      <TokenList tokens={listed.data} label="All tokens" showOwner showProject />
    </div>
  );
}
