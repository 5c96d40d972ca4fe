import type { Metadata } from "next";
import { ChangePasswordForm } from "@/components/accounts/change-password-form";
import { PageHeader } from "@/components/shell/page-header";
import { formatDateTime } from "@/components/ui/format";
import { getOwnAccount } from "@/db/queries/accounts";
import { requireViewer } from "@/lib/auth/session";
import { env } from "@/lib/env";

export const metadata: Metadata = { title: "Your account" };

export default async function AccountSettingsPage() {
  const viewer = await requireViewer("/settings/account");
  const account = await getOwnAccount({ viewer });
  return (
    <div className="space-y-8">
      <PageHeader
        title="Your account"
        description={`${viewer.email}${viewer.name ? ` · ${viewer.name}` : ""} · ${viewer.role}`}
      />
      <section aria-labelledby="password-heading" className="space-y-3">
        <h2 id="password-heading" className="text-base font-semibold">
          Password
        </h2>
        {account.hasPassword ? (
          <ChangePasswordForm />
        ) : (
          <p className="text-sm">
            You sign in through {env().HANGAR_OIDC_NAME}: your password is managed by your identity provider, not by
            Hangar. Change it there.
          </p>
        )}
      </section>
      {account.lastSignInAt ? (
        <p className="text-xs text-muted">Last sign-in: {formatDateTime(account.lastSignInAt)}</p>
      ) : null}
    </div>
  );
}
