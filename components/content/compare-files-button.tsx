"use client";

import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { requestFileDiffServerAction } from "@/lib/actions/diffs";

/** Queues a file-level diff of two versions; the page shows its progress once the server answers. */
export function CompareFilesButton({
  fromVersionId,
  toVersionId,
  label = "Compare files",
}: {
  fromVersionId: string;
  toVersionId: string;
  label?: string;
}) {
  const { pending, run, outcome } = useServerAction();
  return (
    <div className="space-y-2">
      <Button
        variant="primary"
        disabled={pending}
        onClick={() =>
          run(() => requestFileDiffServerAction({ fromVersionId, toVersionId }), {
            success: "File comparison queued.",
          })
        }
      >
        {pending ? "Queuing…" : label}
      </Button>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
