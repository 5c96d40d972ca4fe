// The one adapter between HTTP and Hangar for /api/v1: who is calling (a bearer token, or the browser
// session for reads), whether the token's scope covers the request, the rate limit, reading a JSON
// body strictly, and turning an action's result or a HangarError into the one error shape. The
// routes themselves only call the same (viewer, input) actions and queries the pages use.
import { z } from "zod";
import { recordAudit } from "@/db/queries/audit";
import type { Viewer } from "@/db/queries/users";
import type { TokenScope } from "@/db/enums";
import type { ActionResult } from "@/lib/actions/safe-action";
import { clientAddressOf } from "@/lib/auth/client-address";
import { errorResponse, HangarError, INTERNAL_ERROR_MESSAGE } from "@/lib/errors";
import { takeRequest } from "./rate-limit";
import { viewerFromAuthorization } from "./tokens";

export interface ApiContext<Params> {
  request: Request;
  viewer: Viewer;
  params: Params;
  url: URL;
}

const READ_METHODS = new Set(["GET", "HEAD"]);
const DEFAULT_BODY_LIMIT = 1024 * 1024;

async function callerOf(request: Request, need: TokenScope): Promise<Viewer> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null)
    return viewerFromAuthorization(authorization, {
      address: clientAddressOf(request),
      need,
      what: `${request.method} ${new URL(request.url).pathname}`,
    });
  if (!READ_METHODS.has(request.method))
    throw new HangarError(
      "unauthenticated",
      "Changes through the API need a token: send “Authorization: Bearer <token>”. Create one under Settings → Access tokens.",
    );
  // Loaded here: Auth.js needs Next's runtime, which a token-only caller (and a test) does not.
  const { getViewer } = await import("@/lib/auth/session");
  const viewer = await getViewer();
  if (!viewer)
    throw new HangarError(
      "unauthenticated",
      "This API needs a token: send “Authorization: Bearer <token>”. Create one under Settings → Access tokens.",
    );
  return viewer;
}

/**
 * An /api/v1 route handler. `need` is the token scope the request needs: `read` for lookups,
 * `write` for changes, `admin` for what only admins do (the action still asks access.ts).
 */
export function apiRoute<Params = Record<string, never>>(
  need: TokenScope,
  handler: (context: ApiContext<Params>) => Promise<Response>,
): (request: Request, context: { params: Promise<Params> }) => Promise<Response> {
  return async (request, context) => {
    try {
      const viewer = await callerOf(request, need);
      const limited = takeRequest(viewer.token ? `token:${viewer.token.id}` : `user:${viewer.id}`);
      if (!limited.ok)
        return errorResponse(
          "rate_limited",
          `Too many requests from this ${viewer.token ? "token" : "session"}; wait ${limited.retryAfterSeconds} s and try again.`,
          { headers: { "Retry-After": String(limited.retryAfterSeconds) } },
        );
      const response = await handler({ request, viewer, params: await context.params, url: new URL(request.url) });
      if (viewer.token && !READ_METHODS.has(request.method))
        await recordAudit({
          actorId: viewer.id,
          action: "token.used",
          objectType: "api_token",
          objectId: viewer.token.id,
          after: { method: request.method, path: new URL(request.url).pathname, status: response.status },
        });
      return response;
    } catch (error) {
      if (error instanceof HangarError) return errorResponse(error.code, error.message, { fields: error.fieldErrors });
      console.error("API route failed", error);
      return errorResponse("internal", INTERNAL_ERROR_MESSAGE);
    }
  };
}

/** An action's result as a response: its data as JSON, or its refusal in the one error shape. */
export function actionResponse<T>(result: ActionResult<T>, { status = 200 }: { status?: number } = {}): Response {
  if (result.ok) return Response.json(result.data, { status });
  return errorResponse(result.code, result.message, { fields: result.fieldErrors });
}

/** Unwraps an action's result, throwing its refusal (for routes that shape the answer themselves). */
export function unwrap<T>(result: ActionResult<T>): T {
  if (!result.ok) throw new HangarError(result.code, result.message, result.fieldErrors);
  return result.data;
}

/**
 * A JSON request body, read with a size limit, refused clearly when it is not JSON or names a field
 * the schema does not know (a typo should not be silently ignored). Types are the action's to check.
 */
export async function readJsonBody(
  request: Request,
  schema: z.ZodType,
  { maxBytes = DEFAULT_BODY_LIMIT }: { maxBytes?: number } = {},
): Promise<Record<string, unknown>> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type))
    throw new HangarError(
      "unsupported_media_type",
      `Send the body as JSON with “Content-Type: application/json”${type ? ` (this request said ${type})` : ""}.`,
    );
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readLimited(request, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HangarError("invalid", `The body is not valid JSON: ${(error as Error).message}.`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new HangarError("invalid", 'The body must be a JSON object, such as {"name": "…"}.');
  refuseUnknownFields(body as Record<string, unknown>, schema);
  return body as Record<string, unknown>;
}

function tooLarge(maxBytes: number) {
  return new HangarError(
    "too_large",
    `The body is larger than ${Math.round(maxBytes / 1024)} KiB, the most this endpoint takes. Upload files through /api/uploads instead.`,
  );
}

/** A body as text, refused with 413 once it passes `maxBytes` (whatever Content-Length claimed). */
export async function readLimited(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function refuseUnknownFields(body: Record<string, unknown>, schema: z.ZodType): void {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, unknown>) : null;
  if (!shape) return;
  const unknown = Object.keys(body).filter((key) => !(key in shape));
  if (!unknown.length) return;
  const known = Object.keys(shape).join(", ");
  throw new HangarError(
    "invalid",
    `Unknown field${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}. The fields this endpoint takes are: ${known}.`,
    Object.fromEntries(unknown.map((key) => [key, [`Unknown field; the known ones are ${known}.`]])),
  );
}

/** The query string as an object, for a list schema (`?tag=a&tag=b` becomes an array). */
export function queryObject(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length > 1 ? values : values[0]!;
  }
  return query;
}
