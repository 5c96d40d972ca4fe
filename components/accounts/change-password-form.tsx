"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { ActionMessage } from "@/components/ui/action-message";
import { useServerAction } from "@/components/ui/use-server-action";
import { changeOwnPasswordServerAction } from "@/lib/actions/accounts";
import { changeOwnPasswordSchema, PASSWORD_MIN_LENGTH } from "@/lib/validations/accounts";

export function ChangePasswordForm() {
  const ids = { current: useId(), password: useId(), confirm: useId() };
  const [values, setValues] = useState({ currentPassword: "", password: "", confirm: "" });
  const { pending, run, check, outcome, fieldError } = useServerAction();
  const bind = (name: keyof typeof values) => ({
    value: values[name],
    onChange: (event: React.ChangeEvent<HTMLInputElement>) => setValues({ ...values, [name]: event.target.value }),
  });
  return (
    <form
      className="max-w-sm space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        if (!check(changeOwnPasswordSchema, values)) return;
        run(() => changeOwnPasswordServerAction(values), {
          success: "Your password is changed. Use the new one next time you sign in.",
          onSuccess: () => setValues({ currentPassword: "", password: "", confirm: "" }),
        });
      }}
    >
      <Field id={ids.current} label="Current password" error={fieldError("currentPassword")}>
        <Input
          {...describedBy(ids.current, { error: fieldError("currentPassword") })}
          type="password"
          autoComplete="current-password"
          required
          {...bind("currentPassword")}
        />
      </Field>
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
          {...bind("password")}
        />
      </Field>
      <Field id={ids.confirm} label="New password again" error={fieldError("confirm")}>
        <Input
          {...describedBy(ids.confirm, { error: fieldError("confirm") })}
          type="password"
          autoComplete="new-password"
          required
          {...bind("confirm")}
        />
      </Field>
      <Button type="submit" variant="primary" disabled={pending}>
        {pending ? "Changing…" : "Change password"}
      </Button>
      <ActionMessage outcome={outcome} />
    </form>
  );
}
