"use client";

import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { setPasswordWithLinkServerAction } from "@/lib/actions/accounts";
import { PASSWORD_MIN_LENGTH } from "@/lib/validations/accounts";

export function SetPasswordForm({ token, email }: { token: string; email: string }) {
  const router = useRouter();
  const ids = { password: useId(), confirm: useId() };
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<{ text: string; fields: Record<string, string[]> } | null>(null);
  const [pending, startTransition] = useTransition();
  const fieldError = (name: string) => error?.fields[name]?.[0];
  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        startTransition(async () => {
          const result = await setPasswordWithLinkServerAction({ token, password, confirm });
          if (!result.ok) return setError({ text: result.message, fields: result.fieldErrors ?? {} });
          router.push("/sign-in?notice=password-set");
        });
      }}
    >
      {error ? (
        <p role="alert" className="rounded-md bg-danger-soft px-3 py-2 text-sm text-danger">
          {error.text}
        </p>
      ) : null}
      {/* Lets password managers file the new password under the right account. */}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
      <Field id={ids.password} label="New password" hint={`At least ${PASSWORD_MIN_LENGTH} characters.`} error={fieldError("password")}>
        <Input
          {...describedBy(ids.password, { error: fieldError("password"), hint: `At least ${PASSWORD_MIN_LENGTH} characters.` })}
          type="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      <Field id={ids.confirm} label="New password again" error={fieldError("confirm")}>
        <Input {...describedBy(ids.confirm, { error: fieldError("confirm") })} type="password" autoComplete="new-password" required value={confirm} onChange={(event) => setConfirm(event.target.value)} />
      </Field>
      <Button type="submit" variant="primary" className="w-full" disabled={pending} aria-busy={pending}>
        Set password
      </Button>
    </form>
  );
}
