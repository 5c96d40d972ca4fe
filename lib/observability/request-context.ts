// The request id: made (or taken from a proxy's X-Request-Id) by the HTTP server for every request,
// sent back in the response's X-Request-Id, written on the request's log lines and put in its JSON
// error bodies, so a person can quote it and an operator can find the request. The store lives on
// globalThis: the custom server sets it, and Next's bundled copy of this module reads the same one.
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

export const REQUEST_ID_HEADER = "x-request-id";

interface RequestContext {
  requestId: string;
}

const globalForContext = globalThis as unknown as { hangarRequestContext?: AsyncLocalStorage<RequestContext> };

function storage(): AsyncLocalStorage<RequestContext> {
  globalForContext.hangarRequestContext ??= new AsyncLocalStorage();
  return globalForContext.hangarRequestContext;
}

// Short and plain, so a client's id can't smuggle anything into headers, logs or labels.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** An incoming X-Request-Id when it is a short safe token, else a fresh one. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && SAFE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** The id of the request this code runs for, if any. */
export function currentRequestId(): string | undefined {
  return storage().getStore()?.requestId;
}

/** The id a request carries: set by the HTTP server on the request's headers. */
export function requestIdOf(request: unknown): string | undefined {
  if (!(request instanceof Request)) return undefined;
  const value = request.headers.get(REQUEST_ID_HEADER);
  return value && SAFE_REQUEST_ID.test(value) ? value : undefined;
}

export function runWithRequestId<T>(requestId: string, run: () => T): T {
  return storage().run({ requestId }, run);
}
