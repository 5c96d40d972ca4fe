// The one error module: every refusal is a HangarError with a code, each code has one HTTP status,
// and every JSON error body an API route or the upload server sends is
// `{ error: { code, message, fields?, requestId? } }` (the request id when the error answers a request).
import type { z } from "zod";
import { requestIdOf } from "@/lib/observability/request-id";

// Client components import this module too (fieldErrorsOf), so the server's request context and
// logger (lib/observability, Node-only) are read from where those modules keep them on globalThis.
const server = globalThis as unknown as {
  hangarRequestContext?: { getStore(): { requestId: string } | undefined };
  hangarLogger?: { error(fields: object, message: string): void };
};

function currentRequestId(): string | undefined {
  return server.hangarRequestContext?.getStore()?.requestId;
}

const statusOfCode = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported_media_type: 415,
  refused: 422,
  locked: 423,
  rate_limited: 429,
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
  init: { fields?: Record<string, string[]>; headers?: HeadersInit; requestId?: string } = {},
): Response {
  return Response.json(errorBody(code, message, init.fields, init.requestId), {
    status: httpStatusOf(code),
    headers: init.headers,
  });
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
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      // Normally the HTTP server has set the request's id for everything it runs; otherwise the
      // id on the request (a bare `next start` behind a proxy that sets one).
      const requestId = currentRequestId() ?? requestIdOf(args[0]);
      if (error instanceof HangarError)
        return errorResponse(error.code, error.message, { fields: error.fieldErrors, requestId });
      if (server.hangarLogger) server.hangarLogger.error({ err: error, requestId }, "route handler failed");
      else console.error("route handler failed", error);
      return errorResponse("internal", internalMessage, { requestId });
    }
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
