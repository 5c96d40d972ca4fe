"use client";

import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { cancelFileDiffServerAction } from "@/lib/actions/diffs";

/** Cancels a queued or running file diff (whoever asked for it, and admins); a running one stops at its next heartbeat. */
export function CancelFileDiffButton({ diffId, requested }: { diffId: string; requested: boolean }) {
  const { pending, run, outcome } = useServerAction();
  if (requested) return <p className="text-sm text-muted">Cancel requested; the comparison stops in a moment.</p>;
  return (
    <div className="space-y-2">
      <Button
        size="sm"
        variant="danger"
        disabled={pending}
        onClick={() =>
          run(() => cancelFileDiffServerAction({ diffId }), {
            success: (data) =>
              data.status === "cancelled" ? "File comparison cancelled." : "Cancel requested; it stops in a moment.",
          })
        }
      >
        {pending ? "Cancelling…" : "Cancel comparison"}
      </Button>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
