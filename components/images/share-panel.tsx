"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { ActionMessage } from "@/components/ui/action-message";
import { useServerAction } from "@/components/ui/use-server-action";
import type { ShareRow } from "@/db/queries/shares";
import { answerShareServerAction, offerShareServerAction, withdrawShareServerAction } from "@/lib/actions/shares";

const statusWords: Record<string, string> = {
  pending: "waiting for its owners",
  accepted: "accepted",
  declined: "declined",
};

/** The image's owners offer it to other projects and withdraw offers. */
export function SharePanel({ imageId, imageName, shares }: { imageId: string; imageName: string; shares: ShareRow[] }) {
  const id = useId();
  const [projectSlug, setProjectSlug] = useState("");
  const { pending, run, outcome, anyFieldError: fieldError } = useServerAction();
  return (
    <div className="space-y-3">
      <p className="text-xs text-muted">
        Shared projects see {imageName} in their catalog once their owners accept, and only its approved versions.
      </p>
      {shares.length ? (
        <ul aria-label="Shared with" className="space-y-1.5 text-sm">
          {shares.map((share) => (
            <li key={share.projectId} className="flex flex-wrap items-center justify-between gap-2">
              <span>
                {share.projectName} <span className="text-muted">({statusWords[share.status]})</span>
              </span>
              <Button
                size="sm"
                variant="danger"
                disabled={pending}
                aria-label={`Stop sharing with ${share.projectName}`}
                onClick={() =>
                  run(() => withdrawShareServerAction({ imageId, projectId: share.projectId }), {
                    success: `No longer shared with ${share.projectName}.`,
                  })
                }
              >
                Stop sharing
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          run(() => offerShareServerAction({ imageId, projectSlug }), {
            success: `Offered to ${projectSlug}; its owners can accept it on their project page.`,
            onSuccess: () => setProjectSlug(""),
          });
        }}
      >
        <Field id={id} label="Share with project (short name)" error={fieldError} className="min-w-0 flex-1">
          <Input
            {...describedBy(id, { error: fieldError })}
            value={projectSlug}
            required
            placeholder="platform-team"
            onChange={(event) => setProjectSlug(event.target.value)}
          />
        </Field>
        <Button type="submit" disabled={pending}>
          Share
        </Button>
      </form>
      <ActionMessage outcome={outcome} />
    </div>
  );
}

/** A receiving project's owners accept or decline what was shared with it. */
export function ShareAnswer({ share }: { share: ShareRow }) {
  const { pending, run, outcome } = useServerAction();
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button
        size="sm"
        variant="primary"
        disabled={pending}
        aria-label={`Accept ${share.imageName}`}
        onClick={() =>
          run(() => answerShareServerAction({ imageId: share.imageId, projectId: share.projectId, accept: true }), {
            success: `Accepted ${share.imageName}.`,
          })
        }
      >
        Accept
      </Button>
      <Button
        size="sm"
        disabled={pending}
        aria-label={`Decline ${share.imageName}`}
        onClick={() =>
          run(() => answerShareServerAction({ imageId: share.imageId, projectId: share.projectId, accept: false }), {
            success: `Declined ${share.imageName}.`,
          })
        }
      >
        Decline
      </Button>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
