// Events leave Hangar after the change that caused them committed: one pending delivery row per
// subscribed webhook, then one queue job each. Nothing here may fail or slow the caller's action,
// so the work runs detached and errors are only logged.
import { randomUUID } from "node:crypto";
import type { WebhookEventType } from "@/db/enums";
import { findEventContext, insertDeliveries, listSubscribedWebhooks } from "@/db/queries/webhooks";
import { env } from "@/lib/env";
import { enqueue } from "@/lib/jobs/queue";
import { WEBHOOK_ATTEMPTS } from "./deliver";

export interface WebhookEvent {
  type: WebhookEventType;
  projectId: string | null;
  object: Record<string, unknown>;
  actorId?: string | null;
}

/** Sends queue jobs for delivery rows; pg-boss retries each with exponential backoff. */
export async function enqueueDeliveries(deliveryIds: string[]): Promise<void> {
  const retryDelay = Math.max(1, Math.round(env().HANGAR_WEBHOOK_RETRY_DELAY / 1000));
  for (const deliveryId of deliveryIds) {
    await enqueue(
      "webhook.deliver",
      { deliveryId },
      { retryLimit: WEBHOOK_ATTEMPTS - 1, retryDelay, retryBackoff: true, expireInSeconds: 15 * 60 },
    );
  }
}

/** Records and sends the deliveries; resolves when they are queued. Throws on failure. */
export async function recordWebhookEvent(event: WebhookEvent): Promise<string[]> {
  const subscribed = await listSubscribedWebhooks({ projectId: event.projectId, type: event.type });
  if (subscribed.length === 0) return [];
  const { project, actor } = await findEventContext({ projectId: event.projectId, actorId: event.actorId ?? null });
  const eventId = randomUUID();
  const payload = {
    id: eventId,
    type: event.type,
    createdAt: new Date().toISOString(),
    project,
    actor,
    data: event.object,
  };
  const rows = await insertDeliveries({
    rows: subscribed.map((webhook) => ({ webhookId: webhook.id, eventId, eventType: event.type, payload })),
  });
  const ids = rows.map((row) => row.id);
  await enqueueDeliveries(ids);
  return ids;
}

/** Call after the change committed. Never throws into the caller and never makes it wait. */
export async function queueWebhookEvent(event: WebhookEvent): Promise<void> {
  void recordWebhookEvent(event).catch((error) =>
    console.error(`webhook event ${event.type} could not be queued`, error),
  );
}
