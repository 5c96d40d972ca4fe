"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { startBuildServerAction } from "@/lib/actions/recipes";

type Reused = { buildId: string; number: number; versionId: string; version: string; imageSlug: string };

/** Queues a build; when the same fingerprint was built before, offers that output first. */
export function BuildButton({ recipeId, revision }: { recipeId: string; revision: number }) {
  const router = useRouter();
  const { pending, run, outcome } = useServerAction();
  const [reused, setReused] = useState<Reused | null>(null);
  const build = (force: boolean) =>
    run(() => startBuildServerAction({ recipeId, revision, force }), {
      refresh: false,
      onSuccess: (data) => {
        if (data.queued) router.push(`/builds/${data.buildId}`);
        else setReused(data.reused);
      },
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
            from <Link href={`/builds/${reused.buildId}`}>build #{reused.number}</Link>. Use it instead of building
            again.
          </p>
          <Button size="sm" className="mt-2" disabled={pending} onClick={() => build(true)}>
            Build again anyway
          </Button>
        </div>
      ) : null}
      <ActionMessage outcome={outcome} className="max-w-md" />
    </div>
  );
}
