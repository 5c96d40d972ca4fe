"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { rebuildServerAction } from "@/lib/actions/recipes";

/** One click: the same recipe on the newest approved base, queued; the output goes to review. */
export function RebuildButton({ versionId }: { versionId: string }) {
  const router = useRouter();
  const { pending, run, outcome } = useServerAction();
  const [reused, setReused] = useState<{ imageSlug: string; version: string } | null>(null);
  const rebuild = () =>
    run(() => rebuildServerAction({ versionId }), {
      refresh: false,
      onSuccess: (data) => {
        if (data.queued) router.push(`/builds/${data.buildId}`);
        else setReused(data.reused);
      },
    });
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <Button size="sm" variant="primary" disabled={pending} onClick={rebuild}>
        {pending ? "Queueing…" : "Rebuild on the new base"}
      </Button>
      {reused ? (
        <span role="status">
          <Link href={`/images/${reused.imageSlug}/versions/${encodeURIComponent(reused.version)}`}>
            Already built: {reused.imageSlug} {reused.version}.
          </Link>
        </span>
      ) : null}
      <ActionMessage outcome={outcome} />
    </span>
  );
}
