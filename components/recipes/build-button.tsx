"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { startBuildServerAction } from "@/lib/actions/recipes";

type Reused = { buildId: string; number: number; versionId: string; version: string; imageSlug: string };

/** Queues a build; when the same fingerprint was built before, offers that output first. */
export function BuildButton({ recipeId, revision }: { recipeId: string; revision: number }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [reused, setReused] = useState<Reused | null>(null);
  const [error, setError] = useState<string | null>(null);
  const build = (force: boolean) =>
    startTransition(async () => {
      setError(null);
      const result = await startBuildServerAction({ recipeId, revision, force });
      if (!result.ok) return setError(result.message);
      if (result.data.queued) router.push(`/builds/${result.data.buildId}`);
      else setReused(result.data.reused);
    });
  return (
    <div className="flex flex-col items-end gap-2">
      <Button variant="primary" disabled={pending} onClick={() => build(false)}>
        {pending ? "Queueing…" : `Build revision ${revision}`}
      </Button>
      {reused ? (
        <div role="status" className="max-w-md rounded-md border border-line bg-surface p-3 text-sm">
          <p>
            This exact build exists already (same base bytes and steps):{" "}
            <Link href={`/images/${reused.imageSlug}/versions/${encodeURIComponent(reused.version)}`}>
              {reused.imageSlug} {reused.version}
            </Link>{" "}
            from <Link href={`/builds/${reused.buildId}`}>build #{reused.number}</Link>. Use it instead of building again.
          </p>
          <Button size="sm" className="mt-2" disabled={pending} onClick={() => build(true)}>
            Build again anyway
          </Button>
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="max-w-md text-sm text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}
