"use client";

import Link from "next/link";
import { Button } from "@/components/ui/button";

/** What a person sees when a page fails: what happened and what to try, never a stack trace. */
export function ErrorPanel({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section role="alert" className="mx-auto mt-10 max-w-xl rounded-lg border border-line bg-surface p-6">
      <h1 className="text-lg font-semibold">This page could not be loaded</h1>
      <p className="mt-2 text-muted">
        Something went wrong on the server. Try again; if it keeps happening, tell an admin
        {error.digest ? (
          <>
            {" "}
            and mention the reference <code>{error.digest}</code>
          </>
        ) : null}
        .
      </p>
      <div className="mt-4 flex items-center gap-3">
        <Button variant="primary" onClick={reset}>
          Try again
        </Button>
        <Link href="/">Back to the catalog</Link>
      </div>
    </section>
  );
}
