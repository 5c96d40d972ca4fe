import type { z } from "zod";
import { fieldErrorsOf } from "@/lib/errors";

/**
 * Checks input with an action's schema the way the server will: on a refusal, its first message
 * and the field errors, worded exactly as the server would answer.
 */
export function checkInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
): { ok: true; data: z.output<Schema> } | { ok: false; message: string; fieldErrors: Record<string, string[]> } {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    message: parsed.error.issues[0]?.message ?? "The input is not valid.",
    fieldErrors: fieldErrorsOf(parsed.error),
  };
}
