import Link from "next/link";
import type { ReactNode } from "react";

/** A full-page explanation (coming soon, forbidden, not found) with one way forward. */
export function Notice({
  title,
  children,
  action = { href: "/", label: "Back to the catalog" },
}: {
  title: string;
  children: ReactNode;
  action?: { href: string; label: string } | null;
}) {
  return (
    <section
      aria-labelledby="notice-title"
      className="mx-auto mt-10 max-w-xl rounded-lg border border-line bg-surface p-6"
    >
      <h1 id="notice-title" className="text-lg font-semibold">
        {title}
      </h1>
      <div className="mt-2 space-y-2 text-muted">{children}</div>
      {action ? (
        <p className="mt-4">
          <Link href={action.href} className="font-medium">
            {action.label}
          </Link>
        </p>
      ) : null}
    </section>
  );
}

export function ForbiddenNotice({ what = "this page" }: { what?: string }) {
  return (
    <Notice title="You may not see this">
      <p>Only admins can open {what}. If you need it, ask an admin to change your role.</p>
    </Notice>
  );
}
