"use client";

import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { ActionResult } from "@/lib/actions/safe-action";

export type Feedback = { kind: "success"; text: string } | { kind: "error"; text: string; fieldErrors?: Record<string, string[]> } | null;

/**
 * Runs one server action for an image form: tracks pending, keeps the outcome as words for the
 * form's status/alert regions, and refreshes the server-rendered page after a change.
 */
export function useImageAction() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [feedback, setFeedback] = useState<Feedback>(null);

  function run<T>(action: () => Promise<ActionResult<T>>, successText: (data: T) => string, onSuccess?: (data: T) => void) {
    setFeedback(null);
    startTransition(async () => {
      const result = await action();
      if (!result.ok) {
        setFeedback({ kind: "error", text: result.message, fieldErrors: result.fieldErrors });
        return;
      }
      setFeedback({ kind: "success", text: successText(result.data) });
      onSuccess?.(result.data);
      router.refresh();
    });
  }

  return { pending, feedback, run, clearFeedback: () => setFeedback(null) };
}
