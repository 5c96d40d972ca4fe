"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { deleteVersionServerAction } from "@/lib/actions/releases";

/** Deletes a version after a confirmation; a refusal lists what still depends on it. */
export function DeleteVersionButton({
  versionId,
  label,
  imageSlug,
}: {
  versionId: string;
  label: string;
  imageSlug: string;
}) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const { pending, run, outcome } = useServerAction();
  const remove = () =>
    run(() => deleteVersionServerAction({ versionId }), {
      onSuccess: () => router.push(`/images/${imageSlug}`),
      onError: () => setConfirming(false),
    });
  return (
    <div className="space-y-2">
      {confirming ? (
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span>Delete {label} for good?</span>
          <Button variant="danger" size="sm" disabled={pending} onClick={remove}>
            {pending ? "Deleting…" : "Yes, delete"}
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setConfirming(false)}>
            Keep it
          </Button>
        </div>
      ) : (
        <Button variant="danger" size="sm" onClick={() => setConfirming(true)}>
          Delete version…
        </Button>
      )}
      <ActionMessage outcome={outcome} />
    </div>
  );
}
