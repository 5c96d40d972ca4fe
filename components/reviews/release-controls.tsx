"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select, Textarea } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { changeReleaseServerAction } from "@/lib/actions/releases";
import { retiringActions, transitions, type ReleaseAction } from "@/lib/governance/release";

const labels: Record<ReleaseAction, string> = {
  submit: "Submit for review",
  approve: "Approve",
  reject: "Reject",
  deprecate: "Deprecate",
  disable: "Disable",
  revoke: "Revoke",
  reinstate: "Reinstate",
};

/** The release actions this person may take on a version, with reason, replacement and date. */
export function ReleaseControls({
  versionId,
  actions,
  replacements,
  producerNote,
  heldBack = {},
}: {
  versionId: string;
  actions: ReleaseAction[];
  /** Actions offered but held back for now, with the reason (a required boot test has not passed). */
  heldBack?: Partial<Record<ReleaseAction, string>>;
  replacements: { id: string; version: string }[];
  producerNote?: string;
}) {
  const ids = { action: useId(), reason: useId(), replacement: useId(), at: useId() };
  const [action, setAction] = useState<ReleaseAction | "">(actions[0] ?? "");
  const [reason, setReason] = useState("");
  const [replacement, setReplacement] = useState("");
  const [at, setAt] = useState("");
  const { pending, run, outcome, fieldError } = useServerAction();
  // After a change that leaves this person nothing more to do, what happened stays on screen.
  if (actions.length === 0) {
    return outcome || producerNote ? (
      <div className="space-y-2">
        <ActionMessage outcome={outcome} />
        {producerNote ? <p className="text-sm text-muted">{producerNote}</p> : null}
      </div>
    ) : null;
  }
  const retiring = action !== "" && retiringActions.includes(action);
  const submit = () => {
    if (!action) return;
    run(
      () =>
        changeReleaseServerAction({
          versionId,
          action,
          reason,
          replacementVersionId: retiring ? replacement || null : undefined,
          at: retiring && at ? new Date(at).toISOString() : undefined,
        }),
      {
        success: (data) =>
          data.scheduledFor
            ? `Scheduled: ${labels[action].toLowerCase()} on ${new Date(data.scheduledFor).toLocaleString()}.`
            : `Done: the version is ${data.status.replace("_", " ")} now.`,
        onSuccess: () => setReason(""),
      },
    );
  };
  return (
    <div className="space-y-3">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id={ids.action} label="Change">
          <Select
            {...describedBy(ids.action, {})}
            value={action}
            onChange={(event) => setAction(event.target.value as ReleaseAction)}
          >
            {actions.map((value) => (
              <option key={value} value={value}>
                {labels[value]} → {transitions[value].to.replace("_", " ")}
              </option>
            ))}
          </Select>
        </Field>
        {retiring ? (
          <Field id={ids.at} label="When (empty: now)" error={fieldError("at")}>
            <Input
              {...describedBy(ids.at, { error: fieldError("at") })}
              type="datetime-local"
              value={at}
              onChange={(event) => setAt(event.target.value)}
            />
          </Field>
        ) : null}
        {retiring ? (
          <Field id={ids.replacement} label="Replacement (optional)" error={fieldError("replacementVersionId")}>
            <Select
              {...describedBy(ids.replacement, { error: fieldError("replacementVersionId") })}
              value={replacement}
              onChange={(event) => setReplacement(event.target.value)}
            >
              <option value="">None</option>
              {replacements.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.version}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        <Field
          id={ids.reason}
          label={action === "reject" ? "Reason (required)" : "Reason (optional)"}
          error={fieldError("reason")}
          className="sm:col-span-2"
        >
          <Textarea
            {...describedBy(ids.reason, { error: fieldError("reason") })}
            rows={2}
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
        </Field>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <Button
          variant={action === "revoke" || action === "reject" ? "danger" : "primary"}
          disabled={pending || !action || Boolean(action && heldBack[action])}
          onClick={submit}
        >
          {pending ? "Saving…" : action ? labels[action] : "Change"}
        </Button>
        <ActionMessage outcome={outcome} />
      </div>
      {action && heldBack[action] ? <p className="text-sm text-muted">{heldBack[action]}</p> : null}
      {producerNote ? <p className="text-xs text-muted">{producerNote}</p> : null}
    </div>
  );
}
