import type { Metadata } from "next";
import Link from "next/link";
import { SetPasswordForm } from "@/components/accounts/set-password-form";
import { getPasswordLink, passwordLinkRefusal } from "@/db/queries/accounts";

export const metadata: Metadata = { title: "Choose your password", referrer: "no-referrer" };

// Public: the one-time token in the URL is what lets the person in, checked again when they submit.
export default async function SetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const link = await getPasswordLink({ token: decodeURIComponent(token) });
  return (
    <main id="main" className="grid min-h-dvh place-items-center px-4 py-10">
      <div className="w-full max-w-sm">
        <p className="mb-6 text-center text-lg font-semibold">Hangar</p>
        <section
          aria-labelledby="set-password-title"
          className="rounded-lg border border-line bg-surface p-6 shadow-sm"
        >
          <h1 id="set-password-title" className="text-lg font-semibold">
            Choose your password
          </h1>
          {link.state === "valid" ? (
            <>
              <p className="mb-4 mt-1 text-muted">
                For the account <strong className="text-fg">{link.email}</strong>
                {link.name ? ` (${link.name})` : ""}. Then sign in with it.
              </p>
              <SetPasswordForm token={decodeURIComponent(token)} email={link.email} />
            </>
          ) : (
            <>
              <p role="alert" className="mt-3 rounded-md bg-danger-soft px-3 py-2 text-sm text-danger">
                {passwordLinkRefusal[link.reason]}
              </p>
              <p className="mt-4 text-sm">
                <Link href="/sign-in">Go to sign-in</Link>
              </p>
            </>
          )}
        </section>
      </div>
    </main>
  );
}
