// Server actions are public endpoints. Each is defined here as (caller, raw input) → typed result:
// the caller is re-checked, input is validated with the same zod schema as the form, and errors
// come back as words a person can act on instead of a stack. The 'use server' wrappers only
// resolve the session and revalidate, so tests drive exactly this code with any caller.
//
// Naming rule for actions, one per area:
//   lib/actions/<area>-actions.ts   `<verb><Object>Action` = defineAction(schema, handler):
//                                   (caller, raw input) → ActionResult; what tests and the CLI call.
//   lib/actions/<area>s.ts          'use server' `<verb><Object>ServerAction(input)`: resolves the
//                                   session, calls the Action of the same name, revalidates.
//   lib/validations/<area>.ts       `<verb><Object>Schema`: the zod input schema, shared with forms.
// A file holds one area (clones, shares, images …) and is named for it.
import type { z } from "zod";
import type { Viewer } from "@/db/queries/users";
import { HangarError, INTERNAL_ERROR_MESSAGE, type ErrorCode } from "@/lib/errors";
import { checkInput } from "@/lib/validations/check";

export type ActionResult<T> =
  { ok: true; data: T } | { ok: false; code: ErrorCode; message: string; fieldErrors?: Record<string, string[]> };

export type DefinedAction<Result> = (viewer: Viewer | null, input: unknown) => Promise<ActionResult<Result>>;

export function defineAction<Schema extends z.ZodType, Result>(
  schema: Schema,
  handler: (input: z.output<Schema>, viewer: Viewer) => Promise<Result>,
): DefinedAction<Result> {
  return async (viewer, input) => {
    if (!viewer)
      return { ok: false, code: "unauthenticated", message: "Your session has ended. Sign in again to continue." };
    return run(schema, input, (parsed) => handler(parsed, viewer));
  };
}

/**
 * For the few actions a signed-out person may call (setting a password from a one-time link):
 * the input itself (the link's secret) is what authorises the call, so the handler must check it.
 */
export function definePublicAction<Schema extends z.ZodType, Result>(
  schema: Schema,
  handler: (input: z.output<Schema>) => Promise<Result>,
): (input: unknown) => Promise<ActionResult<Result>> {
  return (input) => run(schema, input, handler);
}

async function run<Schema extends z.ZodType, Result>(
  schema: Schema,
  input: unknown,
  handler: (input: z.output<Schema>) => Promise<Result>,
): Promise<ActionResult<Result>> {
  const checked = checkInput(schema, input);
  if (!checked.ok) return { ok: false, code: "invalid", message: checked.message, fieldErrors: checked.fieldErrors };
  try {
    return { ok: true, data: await handler(checked.data) };
  } catch (error) {
    if (error instanceof HangarError)
      return { ok: false, code: error.code, message: error.message, fieldErrors: error.fieldErrors };
    console.error("server action failed", error);
    return { ok: false, code: "internal", message: INTERNAL_ERROR_MESSAGE };
  }
}
