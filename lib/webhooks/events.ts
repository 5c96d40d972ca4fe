// Events leave Hangar after the change that caused them committed: one pending delivery row per
// subscribed webhook, then one queue job each. Nothing here may fail or slow the caller's action,
// so the work runs detached and errors are only logged.
import { randomUUID } from "node:crypto";
import type { ReleaseStatus, WebhookEventType } from "@/db/enums";
import {
  findBuildForEvent,
  findEventContext,
  findVersionForEvent,
  insertDeliveries,
  listSubscribedWebhooks,
} from "@/db/queries/webhooks";
import { env } from "@/lib/env";
import { enqueue } from "@/lib/jobs/queue";

export interface WebhookEvent {
  type: WebhookEventType;
  projectId: string | null;
  object: Record<string, unknown>;
  actorId?: string | null;
}

/** Attempts per delivery, the first included. */
export const WEBHOOK_ATTEMPTS = 6;

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

const reviewEvents: Partial<Record<ReleaseStatus, WebhookEventType>> = {
  pending_review: "review.pending",
  approved: "review.approved",
  rejected: "review.rejected",
};

async function recordVersionEvents(
  types: (status: ReleaseStatus) => WebhookEventType[],
  {
    versionId,
    actorId = null,
    extra = {},
  }: { versionId: string; actorId?: string | null; extra?: Record<string, unknown> },
): Promise<void> {
  const found = await findVersionForEvent({ versionId });
  if (!found) return;
  for (const type of types(found.version.releaseStatus)) {
    await recordWebhookEvent({
      type,
      projectId: found.projectId,
      actorId,
      object: { version: found.version, image: found.image, ...extra },
    });
  }
}

/** An event about one version (ready, failed, cloned, a channel moved to it). Never throws. */
export async function queueVersionEvent(
  type: "version.ready" | "version.failed" | "clone.finished" | "channel.moved",
  params: { versionId: string; actorId?: string | null; extra?: Record<string, unknown> },
): Promise<void> {
  void recordVersionEvents(() => [type], params).catch((error) =>
    console.error(`webhook event ${type} could not be queued`, error),
  );
}

/** A release change happened: `release.changed`, plus the review event its new status means. */
export async function queueReleaseEvent(params: {
  versionId: string;
  actorId?: string | null;
  extra?: Record<string, unknown>;
}): Promise<void> {
  const types = (status: ReleaseStatus): WebhookEventType[] => {
    const review = reviewEvents[status];
    return review ? [review, "release.changed"] : ["release.changed"];
  };
  void recordVersionEvents(types, params).catch((error) =>
    console.error("webhook release event could not be queued", error),
  );
}

async function recordBuildEvent(type: WebhookEventType, buildId: string, actorId?: string | null): Promise<void> {
  const found = await findBuildForEvent({ buildId });
  if (!found) return;
  await recordWebhookEvent({
    type,
    projectId: found.projectId,
    actorId: actorId === undefined ? found.requestedById : actorId,
    object: { build: found.build, recipe: found.recipe },
  });
}

/** A build started, or ended in the given state; by default its requester is the actor. Never throws. */
export async function queueBuildEvent(
  type: "build.started" | "build.succeeded" | "build.failed" | "build.cancelled",
  { buildId, actorId }: { buildId: string; actorId?: string | null },
): Promise<void> {
  void recordBuildEvent(type, buildId, actorId).catch((error) =>
    console.error(`webhook event ${type} could not be queued`, error),
  );
}
