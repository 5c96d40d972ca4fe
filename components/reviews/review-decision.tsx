"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Textarea } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { changeReleaseServerAction } from "@/lib/actions/releases";

/** Approve or reject one version in the review queue; rejecting needs a reason. */
export function ReviewDecision({
  versionId,
  label,
  ownVersion,
  approveHeldBack = null,
}: {
  versionId: string;
  label: string;
  ownVersion: boolean;
  /** Why approving is held back for now (a required boot test has not passed), if so. */
  approveHeldBack?: string | null;
}) {
  const reasonId = useId();
  const [reason, setReason] = useState("");
  const { pending, run, outcome } = useServerAction();
  const [decided, setDecided] = useState(false);
  const decide = (action: "approve" | "reject") =>
    run(() => changeReleaseServerAction({ versionId, action, reason }), {
      success: action === "approve" ? `${label} approved.` : `${label} rejected.`,
      onSuccess: () => setDecided(true),
      // The item stays in place with its outcome (refreshing would remove it and the message with it).
      refresh: false,
    });
  return (
    <div className="space-y-2">
      <Field id={reasonId} label={`Reason for ${label}`} hint="Required to reject; shown to the author.">
        <Textarea
          {...describedBy(reasonId, { hint: "Required to reject; shown to the author." })}
          rows={2}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
        />
      </Field>
      <div className="flex flex-wrap items-center gap-2">
        <Button
          variant="primary"
          size="sm"
          disabled={pending || decided || ownVersion || Boolean(approveHeldBack)}
          onClick={() => decide("approve")}
          aria-label={`Approve ${label}`}
        >
          Approve
        </Button>
        <Button
          variant="danger"
          size="sm"
          disabled={pending || decided}
          onClick={() => decide("reject")}
          aria-label={`Reject ${label}`}
        >
          Reject
        </Button>
        {ownVersion ? (
          <span className="text-xs text-muted">You produced this version; another admin has to approve it.</span>
        ) : null}
        {approveHeldBack && !ownVersion ? <span className="text-xs text-muted">{approveHeldBack}</span> : null}
      </div>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
