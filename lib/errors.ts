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
