import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { CreateWebhookForm, WebhookList } from "@/components/webhooks/webhook-panel";
import { isAdmin } from "@/db/queries/access";
import { listWebhooksAction } from "@/lib/actions/webhook-actions";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Global webhooks" };

export default async function AdminWebhooksPage() {
  const viewer = await requireViewer("/admin/webhooks");
  if (!isAdmin(viewer)) forbidden();
  const listed = await listWebhooksAction(viewer, { projectId: null });
  if (!listed.ok) forbidden();
  return (
    <div className="space-y-8">
      <PageHeader
        title="Global webhooks"
        description="Sent for events in every project, alongside each project's own webhooks."
      />
      <CreateWebhookForm projectId={null} canAllowInternal />
      <section aria-labelledby="webhooks-heading" className="space-y-3">
        <h2 id="webhooks-heading" className="text-base font-semibold">
          Webhooks
        </h2>
        <WebhookList webhooks={listed.data} />
      </section>
    </div>
  );
}
