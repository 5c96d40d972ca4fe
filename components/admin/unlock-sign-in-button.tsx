"use client";

import { Button } from "@/components/ui/button";
import { useActionFeedback } from "@/components/ui/use-action-feedback";
import { unlockSignInServerAction } from "@/lib/actions/sign-in-locks";

export function UnlockSignInButton({ email }: { email: string }) {
  const { pending, run, feedback } = useActionFeedback();
  return (
    <div className="flex flex-col items-end gap-1">
      <Button
        size="sm"
        disabled={pending}
        aria-label={`Unlock sign-in for ${email}`}
        onClick={() => run(() => unlockSignInServerAction({ email }), `${email} may sign in again.`)}
      >
        Unlock
      </Button>
      {feedback}
    </div>
  );
}
