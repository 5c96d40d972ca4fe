// List cursors are opaque to clients: the keyset position as base64url JSON, with an HMAC so a
// cursor that was edited is refused with a clear error instead of paging from a made-up position.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { env } from "@/lib/env";
import { HangarError } from "@/lib/errors";

let processKey: Buffer | undefined;

// AUTH_SECRET is the same in every process of one installation (npm start keeps it in PostgreSQL), so a
// cursor from one web process works on another; without it the key lives as long as the process.
function key(): Buffer {
  const secret = env().AUTH_SECRET;
  if (secret) return Buffer.from(`hangar-cursor:${secret}`);
  return (processKey ??= randomBytes(32));
}

const sign = (body: string) => createHmac("sha256", key()).update(body).digest("base64url").slice(0, 22);

export function encodeCursor(position: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify(position)).toString("base64url");
  return `${body}.${sign(body)}`;
}

export function decodeCursor<T extends Record<string, unknown>>(cursor: string): T {
  const [body, signature, ...rest] = cursor.split(".");
  const expected = body ? sign(body) : "";
  if (
    !body ||
    !signature ||
    rest.length ||
    signature.length !== expected.length ||
    !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  )
    throw new HangarError(
      "invalid",
      "The cursor is not one this API gave out (it was changed or cut short). Start again from the first page, without a cursor.",
      { cursor: ["Use the nextCursor value of the previous page as it was returned."] },
    );
  try {
    return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as T;
  } catch {
    throw new HangarError(
      "invalid",
      "The cursor could not be read. Start again from the first page, without a cursor.",
    );
  }
}
