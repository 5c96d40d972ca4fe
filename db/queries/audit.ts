import { db, type Database } from "../client";
import { auditEvents } from "../schema";

type Executor = Pick<Database, "insert">;

export async function recordAudit(
  event: { actorId: string | null; action: string; objectType: string; objectId: string; before?: unknown; after?: unknown },
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
