"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";

export type ActionOutcome = { ok: true; data?: unknown } | { ok: false; message: string; fieldErrors?: Record<string, string[]> };

/**
 * Runs a server action in a transition and keeps its outcome as words: an alert with the refusal,
 * or a status line with what happened; then refreshes the page's server data.
 */
export function useActionFeedback() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<{ error: boolean; text: string; fields: Record<string, string[]> } | null>(null);
  const run = (action: () => Promise<ActionOutcome>, success: string | ((data: unknown) => string), after?: (result: ActionOutcome) => void) =>
    startTransition(async () => {
      const result = await action();
      if (!result.ok) return setMessage({ error: true, text: result.message, fields: result.fieldErrors ?? {} });
      setMessage({ error: false, text: typeof success === "string" ? success : success(result.data), fields: {} });
      after?.(result);
      router.refresh();
    });
  const feedback = message ? (
    <p role={message.error ? "alert" : "status"} className={message.error ? "text-sm text-danger" : "text-sm"}>
      {message.text}
    </p>
  ) : null;
  const fieldError = (name: string) => (message?.error ? message.fields[name]?.[0] : undefined);
  /** The first field error, whatever the field, for forms with one input. */
  const anyFieldError = message?.error ? Object.values(message.fields)[0]?.[0] : undefined;
  return { pending, run, feedback, fieldError, anyFieldError };
}
