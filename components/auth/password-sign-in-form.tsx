"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Input, Label } from "@/components/ui/input";
import { signInWithPasswordAction, type SignInState } from "./sign-in-actions";

/** `initialError` is the sentence for an ?error= code from Auth.js; a new attempt replaces it. */
export function PasswordSignInForm({
  callbackUrl,
  initialError,
}: {
  callbackUrl: string;
  initialError: string | null;
}) {
  const [state, formAction, pending] = useActionState<SignInState, FormData>(signInWithPasswordAction, {
    error: initialError,
    email: "",
  });
  return (
    <form action={formAction} className="space-y-3">
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      {state.error ? (
        <p id="sign-in-error" role="alert" className="rounded-md bg-danger-soft px-3 py-2 text-sm text-danger">
          {state.error}
        </p>
      ) : null}
      <div className="space-y-1">
        <Label htmlFor="email">Email</Label>
        <Input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          defaultValue={state.email}
          aria-describedby={state.error ? "sign-in-error" : undefined}
        />
      </div>
      <div className="space-y-1">
        <Label htmlFor="password">Password</Label>
        <Input id="password" name="password" type="password" autoComplete="current-password" required />
      </div>
      <Button type="submit" variant="primary" className="w-full" disabled={pending} aria-busy={pending}>
        Sign in
      </Button>
    </form>
  );
}
