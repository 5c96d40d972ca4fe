// Placeholder for the webhook event queue being written on another branch; only its signature
// matters here, so retention can send its events. Replaced by the real module at merge.
import type { WebhookEventType } from "@/db/enums";

export async function queueWebhookEvent(event: {
  type: WebhookEventType;
  projectId: string | null;
  object: Record<string, unknown>;
  actorId?: string | null;
}): Promise<void> {
  void event;
}
