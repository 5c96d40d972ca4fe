// The paging of every /api/v1 list: the query checked with the operation's schema (an unknown
// parameter is named, not ignored), and each list's keyset position carried inside a signed cursor
// tagged with the list it belongs to, so one list's cursor is refused by another with a 400 instead
// of reaching a query as a position of the wrong shape.
import type { z } from "zod";
import { HangarError } from "@/lib/errors";
import { checkInput } from "@/lib/validations/check";
import { decodeCursor, encodeCursor } from "./cursor";
import { DEFAULT_PAGE_SIZE, type pageQuerySchema } from "./openapi/common";
import { queryObject } from "./route";

export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}

/** A query string checked with an operation's schema: unknown parameters are named, not ignored. */
export function readQuery<Schema extends z.ZodObject>(
  schema: Schema,
  query: Record<string, unknown>,
): z.output<Schema> {
  const known = Object.keys(schema.shape);
  const unknown = Object.keys(query).filter((key) => !known.includes(key));
  if (unknown.length)
    throw new HangarError(
      "invalid",
      `Unknown query parameter${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}. This endpoint takes: ${known.join(", ")}.`,
      Object.fromEntries(unknown.map((key) => [key, ["Unknown query parameter."]])),
    );
  const checked = checkInput(schema, query);
  if (!checked.ok) throw new HangarError("invalid", checked.message, checked.fieldErrors);
  return checked.data;
}

/** The keyset position inside an API cursor of the list `kind`. */
export function positionOf<T>(cursor: string | undefined, kind: string): T | undefined {
  if (!cursor) return undefined;
  const decoded = decodeCursor<{ kind?: string; at?: T }>(cursor);
  if (decoded.kind !== kind || decoded.at === undefined)
    throw new HangarError(
      "invalid",
      "That cursor belongs to another list. Start again from the first page, without a cursor.",
      { cursor: ["Use the nextCursor of this list's previous page."] },
    );
  return decoded.at;
}

export const cursorOf = (kind: string, at: unknown) => encodeCursor({ kind, at });

/** A list's query and the position its cursor carries (lists whose rows come straight from a query). */
export function readPageQuery<Schema extends typeof pageQuerySchema, Position>(
  url: URL,
  schema: Schema,
  kind: string,
): { query: z.output<Schema>; after: Position | undefined; limit: number } {
  const query = readQuery(schema, queryObject(url));
  return { query, after: positionOf<Position>(query.cursor, kind), limit: query.limit ?? DEFAULT_PAGE_SIZE };
}

/** A page answer: `rows` were asked for with one more than `limit`, to know whether there is a next page. */
export function pageResponse<Row, Item>(
  rows: Row[],
  limit: number,
  item: (row: Row) => Item,
  kind: string,
  position: (row: Row) => unknown,
): Response {
  const page = rows.slice(0, limit);
  const more = rows.length > limit && page.length > 0;
  return Response.json({ items: page.map(item), nextCursor: more ? cursorOf(kind, position(page.at(-1)!)) : null });
}
