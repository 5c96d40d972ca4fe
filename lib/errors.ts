// The one error module: every refusal is a HangarError with a code, each code has one HTTP status,
// and every JSON error body an API route or the upload server sends is
// `{ error: { code, message, fields?, requestId? } }` (the request id when the error answers a request).
import type { z } from "zod";
import { logger } from "@/lib/observability/log";
import { currentRequestId, requestIdOf, runWithRequestId } from "@/lib/observability/request-context";

const statusOfCode = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported_media_type: 415,
  refused: 422,
  internal: 500,
  database_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof statusOfCode;

export class HangarError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "HangarError";
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return statusOfCode[code];
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: Record<string, string[]>; requestId?: string };
}

/** The error body; `requestId` defaults to the id of the request being answered, if any. */
export function errorBody(
  code: ErrorCode,
  message: string,
  fields?: Record<string, string[]>,
  requestId: string | undefined = currentRequestId(),
): ErrorBody {
  return { error: { code, message, ...(fields ? { fields } : {}), ...(requestId ? { requestId } : {}) } };
}

export function errorResponse(
  code: ErrorCode,
  message: string,
  init: { fields?: Record<string, string[]>; headers?: HeadersInit } = {},
): Response {
  return Response.json(errorBody(code, message, init.fields), { status: httpStatusOf(code), headers: init.headers });
}

export const INTERNAL_ERROR_MESSAGE =
  "Something went wrong on the server; nothing was changed. Try again, and tell an admin if it keeps happening.";

/**
 * Wraps a route handler so that a HangarError it throws is answered with the code's status and
 * body, and anything else is logged and answered as a 500 that says nothing about the internals.
 */
export function withRouteErrors<Args extends unknown[]>(
  handler: (...args: Args) => Promise<Response>,
  { internalMessage = INTERNAL_ERROR_MESSAGE }: { internalMessage?: string } = {},
): (...args: Args) => Promise<Response> {
  const run = async (...args: Args) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (error instanceof HangarError) return errorResponse(error.code, error.message, { fields: error.fieldErrors });
      logger().error({ err: error, requestId: currentRequestId() }, "route handler failed");
      return errorResponse("internal", internalMessage);
    }
  };
  // Normally the HTTP server has set the request's id for everything it runs; a request that
  // carries one outside it (a bare `next start` behind a proxy) gets it here.
  return (...args) => {
    const requestId = currentRequestId() ? undefined : requestIdOf(args[0]);
    return requestId ? runWithRequestId(requestId, () => run(...args)) : run(...args);
  };
}

/** A zod error's messages by dotted field path ("_" for the input as a whole). */
export function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "_";
    (fieldErrors[key] ??= []).push(issue.message);
  }
  return fieldErrors;
}
