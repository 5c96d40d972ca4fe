// The request id's header and what an acceptable id looks like. No Node imports: lib/errors.ts,
// which client components also load, reads it.
export const REQUEST_ID_HEADER = "x-request-id";

// Short and plain, so a client's id can't smuggle anything into headers, logs or labels.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function isSafeRequestId(value: string | null | undefined): value is string {
  return !!value && SAFE_REQUEST_ID.test(value);
}

/** The id a request carries: set by the HTTP server on the request's headers. */
export function requestIdOf(request: unknown): string | undefined {
  if (!(request instanceof Request)) return undefined;
  const value = request.headers.get(REQUEST_ID_HEADER);
  return isSafeRequestId(value) ? value : undefined;
}
