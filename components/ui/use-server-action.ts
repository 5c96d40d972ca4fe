"use client";

import { unstable_rethrow, useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { z } from "zod";
import type { ActionResult } from "@/lib/actions/safe-action";
import { checkInput } from "@/lib/validations/check";

type Failure = Extract<ActionResult<unknown>, { ok: false }>;

const UNREACHABLE_MESSAGE =
  "Hangar did not answer: the connection was lost or the server is restarting. Check your connection and try again; reload the page to see what was saved.";

/** What the last call came to, as words for <ActionMessage>; null before the first call. */
export type ActionOutcome =
  | { kind: "success"; text: string }
  | { kind: "error"; text: string; code?: Failure["code"]; fieldErrors: Record<string, string[]> }
  | null;

export interface RunOptions<T> {
  /** The status line after a success; none when omitted. */
  success?: string | ((data: T) => string);
  onSuccess?: (data: T) => void | Promise<void>;
  onError?: (failure: Failure) => void;
  /** After success or failure, e.g. to refetch a query either way. */
  onSettled?: (result: ActionResult<T>) => void | Promise<void>;
  /** Re-render the page's server components after a success (default); off when the caller navigates away or keeps its own state. */
  refresh?: boolean;
}

/**
 * The one way a client component calls a server action: runs it in a transition (pending), keeps
 * the refusal with its field errors or the success as words, and keeps the action's result type
 * for the callbacks. Several actions of one component may share one hook and one message.
 */
export function useServerAction() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [outcome, setOutcome] = useState<ActionOutcome>(null);

  function run<T>(call: () => Promise<ActionResult<T>>, options: RunOptions<T> = {}) {
    setOutcome(null);
    startTransition(async () => {
      let result: ActionResult<T>;
      try {
        result = await call();
      } catch (error) {
        // The action never answered (connection lost, server restarting): say so in words, not a
        // crash page. Next's own signals (a redirect, not-found) keep their meaning.
        unstable_rethrow(error);
        result = { ok: false, code: "internal", message: UNREACHABLE_MESSAGE };
      }
      if (!result.ok) {
        setOutcome({ kind: "error", text: result.message, code: result.code, fieldErrors: result.fieldErrors ?? {} });
        options.onError?.(result);
      } else {
        const text = typeof options.success === "function" ? options.success(result.data) : options.success;
        setOutcome(text ? { kind: "success", text } : null);
        await options.onSuccess?.(result.data);
        if (options.refresh ?? true) router.refresh();
      }
      await options.onSettled?.(result);
    });
  }

  const fieldErrors = outcome?.kind === "error" ? outcome.fieldErrors : {};
  return {
    pending,
    outcome,
    run,
    /** The first error of one field, for <Field error>. */
    fieldError: (name: string): string | undefined => fieldErrors[name]?.[0],
    /** The first field error, whatever the field, for forms with one input. */
    anyFieldError: Object.values(fieldErrors)[0]?.[0] as string | undefined,
    fieldErrors,
    /** Checks input with the action's own schema (lib/validations) before sending it; a refusal shows as the server's would. */
    check: (schema: z.ZodType, input: unknown): boolean => {
      const checked = checkInput(schema, input);
      if (!checked.ok)
        setOutcome({ kind: "error", text: checked.message, code: "invalid", fieldErrors: checked.fieldErrors });
      return checked.ok;
    },
    /** A refusal found before calling the server (the form's own checks), shown the same way. */
    fail: (text: string, fields: Record<string, string[]> = {}) =>
      setOutcome({ kind: "error", text, fieldErrors: fields }),
    clear: () => setOutcome(null),
  };
}
