// The request id: made (or taken from a proxy's X-Request-Id) by the HTTP server for every request,
// sent back in the response's X-Request-Id, written on the request's log lines and put in its JSON
// error bodies, so a person can quote it and an operator can find the request. The store lives on
// globalThis: the custom server sets it, and Next's bundled copy of this module reads the same one.
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { isSafeRequestId } from "./request-id";

export { REQUEST_ID_HEADER } from "./request-id";

interface RequestContext {
  requestId: string;
}

const globalForContext = globalThis as unknown as { hangarRequestContext?: AsyncLocalStorage<RequestContext> };

function storage(): AsyncLocalStorage<RequestContext> {
  globalForContext.hangarRequestContext ??= new AsyncLocalStorage();
  return globalForContext.hangarRequestContext;
}

/** An incoming X-Request-Id when it is a short safe token, else a fresh one. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return isSafeRequestId(value) ? value : randomUUID();
}

/** The id of the request this code runs for, if any. */
export function currentRequestId(): string | undefined {
  return storage().getStore()?.requestId;
}

export function runWithRequestId<T>(requestId: string, run: () => T): T {
  return storage().run({ requestId }, run);
}
