import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { authErrorMessage } from "@/components/auth/auth-error-message";
import { safeCallbackUrl } from "@/components/auth/callback-url";
import { PasswordSignInForm } from "@/components/auth/password-sign-in-form";
import { signInWithOidcAction } from "@/components/auth/sign-in-actions";
import { Button } from "@/components/ui/button";
import { getViewer } from "@/lib/auth/session";
import { env } from "@/lib/env";

export const metadata: Metadata = { title: "Sign in" };

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  if (await getViewer()) redirect("/");
  const params = await searchParams;
  const callbackUrl = safeCallbackUrl(first(params.callbackUrl));
  const error = authErrorMessage(first(params.error), first(params.code));
  const config = env();

  return (
    <main id="main" className="grid min-h-dvh place-items-center px-4 py-10">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-center gap-2 text-lg font-semibold">
          <svg
            aria-hidden="true"
            viewBox="0 0 24 24"
            className="size-6 text-accent"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
          >
            <path d="M3 20V10l9-6 9 6v10" strokeLinejoin="round" />
            <path d="M7 20v-6h10v6" strokeLinejoin="round" />
          </svg>
          Hangar
        </div>
        <section aria-labelledby="sign-in-title" className="rounded-lg border border-line bg-surface p-6 shadow-sm">
          <h1 id="sign-in-title" className="text-lg font-semibold">
            Sign in
          </h1>
          <p className="mb-4 mt-1 text-muted">The catalog of VM guest images for your organisation.</p>
          {first(params.notice) === "password-set" ? (
            <p role="status" className="mb-4 rounded-md bg-accent-soft px-3 py-2 text-sm">
              Your password is set. Sign in with your email and the new password.
            </p>
          ) : null}
          {config.oidcEnabled ? (
            <>
              <form action={signInWithOidcAction}>
                <input type="hidden" name="callbackUrl" value={callbackUrl} />
                <Button type="submit" variant="primary" className="w-full">
                  Sign in with {config.HANGAR_OIDC_NAME}
                </Button>
              </form>
              <div className="my-4 flex items-center gap-3 text-xs text-muted">
                <span className="h-px flex-1 bg-line" />
                or with a local account
                <span className="h-px flex-1 bg-line" />
              </div>
            </>
          ) : null}
          <PasswordSignInForm callbackUrl={callbackUrl} initialError={error} />
        </section>
      </div>
    </main>
  );
}
