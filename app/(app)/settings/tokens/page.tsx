import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { tokenExpiryChoices } from "@/components/tokens/expiry-choices";
import { CreateTokenForm, TokenList, type ScopeChoice } from "@/components/tokens/token-panel";
import { isAdmin } from "@/db/queries/access";
import { listApiTokensAction } from "@/lib/actions/token-actions";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Access tokens" };

export default async function AccessTokensPage() {
  const viewer = await requireViewer("/settings/tokens");
  const listed = await listApiTokensAction(viewer, {});
  if (!listed.ok) forbidden();
  const scopes: ScopeChoice[] = [
    { scope: "read", label: "read: see what you can see, change nothing" },
    { scope: "write", label: "write: act as you in your projects (push, build, approve…)" },
    ...(isAdmin(viewer) ? [{ scope: "admin" as const, label: "admin: everything you can do as an admin" }] : []),
  ];
  return (
    <div className="space-y-8">
      <PageHeader
        title="Access tokens"
        description="For scripts, CI and the hangar CLI: Authorization: Bearer <token> on /api/v1. A token never does more than you may do yourself. Project tokens for CI are made on a project's Tokens page."
      />
      <CreateTokenForm project={null} scopes={scopes} {...tokenExpiryChoices()} />
      <section aria-labelledby="tokens-heading" className="space-y-3">
        <h2 id="tokens-heading" className="text-base font-semibold">
          Your tokens
        </h2>
        <TokenList tokens={listed.data} label="Your tokens" />
      </section>
    </div>
  );
}
