"use client";

import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { setPasswordWithLinkServerAction } from "@/lib/actions/accounts";
import { PASSWORD_MIN_LENGTH, setPasswordWithLinkSchema } from "@/lib/validations/accounts";

export function SetPasswordForm({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const ids = { password: useId(), confirm: useId() };
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const { pending, run, check, outcome, fieldError } = useServerAction();
  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        if (!check(setPasswordWithLinkSchema, { token, password, confirm })) return;
        run(() => setPasswordWithLinkServerAction({ token, password, confirm }), {
          refresh: false,
          onSuccess: () => router.push("/sign-in?notice=password-set"),
        });
      }}
    >
      <ActionMessage outcome={outcome} className="rounded-md bg-danger-soft px-3 py-2" />
      {/* Lets password managers file the new password under the right account. */}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
      <Field
        id={ids.password}
        label="New password"
        hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
        error={fieldError("password")}
      >
        <Input
          {...describedBy(ids.password, {
            error: fieldError("password"),
            hint: `At least ${PASSWORD_MIN_LENGTH} characters.`,
          })}
          type="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      <Field id={ids.confirm} label="New password again" error={fieldError("confirm")}>
        <Input
          {...describedBy(ids.confirm, { error: fieldError("confirm") })}
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(event) => setConfirm(event.target.value)}
        />
      </Field>
      <Button type="submit" variant="primary" className="w-full" disabled={pending} aria-busy={pending}>
        Set password
      </Button>
    </form>
  );
}
