"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ActionMessage } from "@/components/ui/action-message";
import { useServerAction } from "@/components/ui/use-server-action";
import {
  resetUserPasswordServerAction,
  setUserDisabledServerAction,
  setUserRoleServerAction,
} from "@/lib/actions/accounts";
import { OneTimeLink } from "./one-time-link";

/** One account's actions; the server re-checks each (admins only, never the last active admin). */
export function UserControls({
  userId,
  email,
  role,
  disabled,
  canReset,
}: {
  userId: string;
  email: string;
  role: "admin" | "member";
  disabled: boolean;
  canReset: boolean;
}) {
  const { pending, run, outcome } = useServerAction();
  const [issued, setIssued] = useState<{ email: string; link: string; expiresAt: string } | null>(null);
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-1.5">
        <Button
          size="sm"
          disabled={pending}
          aria-label={role === "admin" ? `Revoke admin from ${email}` : `Make ${email} an admin`}
          onClick={() =>
            run(() => setUserRoleServerAction({ userId, role: role === "admin" ? "member" : "admin" }), {
              success: role === "admin" ? `${email} is a member now.` : `${email} is an admin now.`,
            })
          }
        >
          {role === "admin" ? "Revoke admin" : "Make admin"}
        </Button>
        {canReset ? (
          <Button
            size="sm"
            disabled={pending}
            aria-label={`Reset the password of ${email}`}
            onClick={() => {
              if (
                !window.confirm(
                  `Reset the password of ${email}? Their current password stops working now; they choose a new one with the link you pass on.`,
                )
              )
                return;
              setIssued(null);
              run(() => resetUserPasswordServerAction({ userId }), {
                success: `New set-password link for ${email}.`,
                onSuccess: setIssued,
              });
            }}
          >
            Reset password
          </Button>
        ) : null}
        <Button
          size="sm"
          variant={disabled ? "secondary" : "danger"}
          disabled={pending}
          aria-label={disabled ? `Enable ${email}` : `Disable ${email}`}
          onClick={() =>
            run(() => setUserDisabledServerAction({ userId, disabled: !disabled }), {
              success: disabled ? `${email} is enabled again.` : `${email} is disabled; their sessions have ended.`,
            })
          }
        >
          {disabled ? "Enable" : "Disable"}
        </Button>
      </div>
      <ActionMessage outcome={outcome} />
      {issued ? <OneTimeLink {...issued} /> : null}
    </div>
  );
}
