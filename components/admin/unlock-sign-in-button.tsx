"use client";

import { Button } from "@/components/ui/button";
import { ActionMessage } from "@/components/ui/action-message";
import { useServerAction } from "@/components/ui/use-server-action";
import { unlockSignInServerAction } from "@/lib/actions/sign-in-locks";

export function UnlockSignInButton({ email }: { email: string }) {
  const { pending, run, outcome } = useServerAction();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="sm"
        disabled={pending}
        aria-label={`Unlock sign-in for ${email}`}
        onClick={() => run(() => unlockSignInServerAction({ email }), { success: `${email} may sign in again.` })}
      >
        Unlock
      </Button>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
