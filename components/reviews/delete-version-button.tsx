"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { deleteVersionServerAction } from "@/lib/actions/releases";

/** Deletes a version after a confirmation; a refusal lists what still depends on it. */
export function DeleteVersionButton({ versionId, label, imageSlug }: { versionId: string; label: string; imageSlug: string }) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const remove = () =>
    startTransition(async () => {
      const result = await deleteVersionServerAction({ versionId });
      if (!result.ok) {
        setConfirming(false);
        return setError(result.message);
      }
      router.push(`/images/${imageSlug}`);
      router.refresh();
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
      {error ? (
        <p role="alert" className="text-sm text-danger">
          {error}
        </p>
      ) : null}
    </div>
  );
}
