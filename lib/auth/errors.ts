export type ErrorCode = "unauthenticated" | "forbidden" | "not_found" | "invalid" | "conflict";

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

export const unauthenticated = () => new HangarError("unauthenticated", "Sign in to continue.");
export const forbidden = (message = "You don't have permission to do that.") => new HangarError("forbidden", message);
export const notFound = (what = "That item") => new HangarError("not_found", `${what} doesn't exist, or you can't see it.`);
