import { sql, type SQL } from "drizzle-orm";
import { db, type Database } from "../client";
import { auditEvents } from "../schema";

type Executor = Pick<Database, "insert">;

export async function recordAudit(
  event: {
    actorId: string | null;
    action: string;
    objectType: string;
    objectId: string;
    before?: unknown;
    after?: unknown;
  },
  executor: Executor = db(),
): Promise<void> {
  await executor.insert(auditEvents).values({
    actorId: event.actorId,
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId,
    before: event.before ?? null,
    after: event.after ?? null,
  });
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string | null;
  action: string;
  objectType: string;
  objectId: string;
  before: unknown;
  after: unknown;
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  from?: Date;
  to?: Date;
  /** Keyset: events older than this id. */
  before?: number;
}

/** Newest first, keyset-paged by id; read-only by design (nothing in the app edits events). */
export async function listAuditEvents(filters: AuditFilters, limit = 100): Promise<AuditRow[]> {
  const conditions = [
    filters.actor ? sql`u.email ilike ${`%${filters.actor}%`}` : undefined,
    filters.action ? sql`e.action like ${`${filters.action.replace(/[%_\\]/g, "\\$&")}%`}` : undefined,
    filters.objectType ? sql`e.object_type = ${filters.objectType}` : undefined,
    filters.objectId ? sql`e.object_id = ${filters.objectId}` : undefined,
    filters.from ? sql`e.at >= ${filters.from.toISOString()}::timestamptz` : undefined,
    filters.to ? sql`e.at < ${filters.to.toISOString()}::timestamptz` : undefined,
    filters.before ? sql`e.id < ${filters.before}` : undefined,
  ].filter((condition): condition is SQL => condition !== undefined);
  const result = await db().execute<Record<string, unknown>>(sql`
    select e.id, e.at, u.email as actor, e.action, e.object_type, e.object_id, e.before, e.after
    from audit_events e left join users u on u.id = e.actor_id
    ${conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``}
    order by e.id desc limit ${limit}`);
  return result.rows.map((row) => ({
    id: Number(row.id),
    at: new Date(String(row.at)),
    actor: (row.actor as string | null) ?? null,
    action: String(row.action),
    objectType: String(row.object_type),
    objectId: String(row.object_id),
    before: row.before,
    after: row.after,
  }));
}
