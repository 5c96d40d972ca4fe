// What every /api/v1 operation's description shares: the one error body, the error responses an
// operation can give, cursor paging, and JSON content. Area files (images.ts, builds.ts, ...) describe
// their operations with these and the same zod schemas the actions validate with.
import { z } from "zod";
import type { ZodOpenApiResponsesObject } from "zod-openapi";
import { httpStatusOf, type ErrorCode } from "@/lib/errors";

const errorCodes = [
  "invalid",
  "unauthenticated",
  "forbidden",
  "not_found",
  "conflict",
  "gone",
  "too_large",
  "unsupported_media_type",
  "refused",
  "rate_limited",
  "internal",
  "database_unavailable",
] as const satisfies readonly ErrorCode[];

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes).meta({ description: "Stable machine-readable code; each code has one HTTP status." }),
      message: z.string().meta({ description: "What is wrong and what to do, as the web UI shows it." }),
      fields: z
        .record(z.string(), z.array(z.string()))
        .optional()
        .meta({ description: "Per-field messages when the input was invalid." }),
      requestId: z.string().optional().meta({ description: "The X-Request-Id of the request, for the server's logs." }),
    }),
  })
  .meta({ id: "Error", description: "Every error from /api/v1 has this shape." });

const errorDescriptions: Record<ErrorCode, string> = {
  invalid: "The input is invalid; `fields` names what to fix.",
  unauthenticated: "No token, or the token is unknown, expired or revoked.",
  forbidden: "The caller or the token's scope may not do this.",
  not_found: "It does not exist, or the caller may not see it.",
  method_not_allowed: "This path does not take that HTTP method; see Allow.",
  conflict: "The object's state does not allow this now.",
  gone: "It existed but was removed.",
  too_large: "The body is larger than this endpoint takes.",
  unsupported_media_type: "The body's Content-Type is not one this endpoint takes.",
  refused: "Hangar refused the request (the message says why).",
  locked: "Another server process is working on it right now; try again after Retry-After.",
  rate_limited: "Too many requests from this token; see Retry-After.",
  internal: "Something failed on the server; nothing was changed.",
  database_unavailable: "The database is unavailable; try again.",
};

/** Error responses for an operation: always 401, 429 and 500, plus the codes it names. */
export function errorResponses(...codes: ErrorCode[]): ZodOpenApiResponsesObject {
  const responses: Record<string, { description: string; content: object }> = {};
  for (const code of new Set<ErrorCode>(["unauthenticated", "rate_limited", "internal", ...codes])) {
    const status = String(httpStatusOf(code));
    const earlier = responses[status];
    responses[status] = {
      description: earlier ? `${earlier.description} ${errorDescriptions[code]}` : errorDescriptions[code],
      content: { "application/json": { schema: errorBodySchema } },
    };
  }
  return responses as ZodOpenApiResponsesObject;
}

export function jsonContent(schema: z.ZodType) {
  return { "application/json": { schema } };
}

/** A JSON success response. */
export function jsonResponse(description: string, schema: z.ZodType) {
  return { description, content: jsonContent(schema) };
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export const pageQuerySchema = z.object({
  cursor: z
    .string()
    .optional()
    .meta({ description: "The `nextCursor` of the previous page; omit for the first page." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .optional()
    .meta({ description: `Items per page, 1–${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).` }),
});

/** A page of a list: the items and the cursor of the next page (null on the last). */
export function pageOf<Item extends z.ZodType>(item: Item) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }),
  });
}
