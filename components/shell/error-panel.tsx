"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";

/**
 * What a person sees when a page fails: what happened and what to try, never a stack trace. In
 * production the server's error message does not reach the browser, so the panel asks
 * /api/health whether the cause is the database being unavailable, and then says so.
 */
export function ErrorPanel({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const [databaseDown, setDatabaseDown] = useState(false);
  useEffect(() => {
    let current = true;
    fetch("/api/health", { cache: "no-store" })
      .then((response) => current && setDatabaseDown(response.status === 503))
      .catch(() => {});
    return () => {
      current = false;
    };
  }, [error]);

  return (
    <section role="alert" className="mx-auto mt-10 max-w-xl rounded-lg border border-line bg-surface p-6">
      {databaseDown ? (
        <>
          <h1 className="text-lg font-semibold">The database is unavailable</h1>
          <p className="mt-2 text-muted">
            Hangar can&apos;t reach its database right now: it is being restarted or cannot be reached. Try again in a
            few seconds.
          </p>
        </>
      ) : (
        <>
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
        </>
      )}
      <div className="mt-4 flex items-center gap-3">
        <Button variant="primary" onClick={reset}>
          Try again
        </Button>
        <Link href="/">Back to the catalog</Link>
      </div>
    </section>
  );
}
