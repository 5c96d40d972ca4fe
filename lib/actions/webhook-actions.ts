import { randomBytes, randomUUID } from "node:crypto";
import { requireAdmin, requireInProject } from "@/db/queries/access";
import type { Viewer } from "@/db/queries/users";
import {
  deleteWebhook,
  findDelivery,
  findEventContext,
  findWebhook,
  insertDeliveries,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  updateWebhook,
  webhookWithoutSecret,
  type WebhookRow,
} from "@/db/queries/webhooks";
import { HangarError } from "@/lib/errors";
import { UrlRefused } from "@/lib/imports/url-fetch";
import { enqueueDeliveries } from "@/lib/webhooks/events";
import { checkWebhookUrl } from "@/lib/webhooks/target";
import {
  createWebhookSchema,
  deleteWebhookSchema,
  listWebhookDeliveriesSchema,
  listWebhooksSchema,
  redeliverWebhookSchema,
  sendWebhookTestSchema,
  updateWebhookSchema,
} from "@/lib/validations/webhooks";
import { defineAction } from "./safe-action";

/** Project webhooks are their owners'; global ones (no project) are the admins'. */
function requireWebhookManager(viewer: Viewer, projectId: string | null): void {
  if (projectId === null) requireAdmin(viewer, "manage global webhooks");
  else requireInProject(viewer, projectId, "manage", "manage this project's webhooks");
}

/** The webhook, once the viewer may manage it; not_found otherwise for outsiders. */
async function managedWebhook(viewer: Viewer, id: string): Promise<WebhookRow> {
  const webhook = await findWebhook({ id });
  if (!webhook) throw new HangarError("not_found", "That webhook doesn't exist.");
  requireWebhookManager(viewer, webhook.projectId);
  return webhook;
}

async function requireSafeUrl(url: string, allowInternal: boolean): Promise<void> {
  try {
    await checkWebhookUrl(url, { allowInternal });
  } catch (error) {
    if (error instanceof UrlRefused)
      throw new HangarError("invalid", `${error.userMessage} Nothing was saved.`, { url: [error.userMessage] });
    throw error;
  }
}

export const createWebhookAction = defineAction(createWebhookSchema, async (input, viewer) => {
  requireWebhookManager(viewer, input.projectId);
  if (input.allowInternal) requireAdmin(viewer, "let a webhook reach internal addresses");
  await requireSafeUrl(input.url, input.allowInternal);
  const secret = input.secret || `whsec_${randomBytes(24).toString("hex")}`;
  const row = await insertWebhook({
    values: {
      projectId: input.projectId,
      url: input.url,
      secret,
      events: input.events,
      description: input.description,
      active: input.active,
      allowInternal: input.allowInternal,
      createdById: viewer.id,
    },
  });
  // The secret is shown this once; lists never include it.
  return { webhook: { id: row.id, ...webhookWithoutSecret(row) }, secret };
});

export const updateWebhookAction = defineAction(updateWebhookSchema, async (input, viewer) => {
  const webhook = await managedWebhook(viewer, input.id);
  if (input.allowInternal !== undefined && input.allowInternal !== webhook.allowInternal)
    requireAdmin(viewer, "change whether a webhook may reach internal addresses");
  const allowInternal = input.allowInternal ?? webhook.allowInternal;
  if (input.url !== undefined) await requireSafeUrl(input.url, allowInternal);
  const row = await updateWebhook({
    id: webhook.id,
    actorId: viewer.id,
    changes: {
      ...(input.url !== undefined ? { url: input.url } : {}),
      ...(input.events !== undefined ? { events: input.events } : {}),
      ...(input.active !== undefined ? { active: input.active } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.allowInternal !== undefined ? { allowInternal: input.allowInternal } : {}),
    },
  });
  if (!row) throw new HangarError("not_found", "That webhook doesn't exist.");
  return { id: row.id, ...webhookWithoutSecret(row) };
});

export const deleteWebhookAction = defineAction(deleteWebhookSchema, async (input, viewer) => {
  const webhook = await managedWebhook(viewer, input.id);
  await deleteWebhook({ id: webhook.id, actorId: viewer.id });
  return { id: webhook.id };
});

export const listWebhooksAction = defineAction(listWebhooksSchema, async (input, viewer) => {
  requireWebhookManager(viewer, input.projectId);
  const list = await listWebhooks({ projectId: input.projectId });
  const deliveries = await listDeliveries({ webhookIds: list.map((webhook) => webhook.id) });
  return list.map((webhook) => ({
    ...webhook,
    deliveries: deliveries.filter((delivery) => delivery.webhookId === webhook.id).slice(0, 20),
  }));
});

export const listWebhookDeliveriesAction = defineAction(listWebhookDeliveriesSchema, async (input, viewer) => {
  const webhook = await managedWebhook(viewer, input.id);
  return listDeliveries({ webhookIds: [webhook.id], limit: 50 });
});

export const redeliverWebhookAction = defineAction(redeliverWebhookSchema, async (input, viewer) => {
  const original = await findDelivery({ id: input.deliveryId });
  if (!original) throw new HangarError("not_found", "That delivery doesn't exist.");
  await managedWebhook(viewer, original.webhookId);
  // The same event (id and payload) again, as a new delivery with its own attempts.
  const [row] = await insertDeliveries({
    rows: [
      {
        webhookId: original.webhookId,
        eventId: original.eventId,
        eventType: original.eventType,
        payload: original.payload,
        redeliveryOf: original.id,
      },
    ],
  });
  if (!row) throw new Error("redelivery insert returned nothing");
  await enqueueDeliveries([row.id]);
  return { deliveryId: row.id };
});

export const sendWebhookTestAction = defineAction(sendWebhookTestSchema, async (input, viewer) => {
  const webhook = await managedWebhook(viewer, input.id);
  const { project, actor } = await findEventContext({ projectId: webhook.projectId, actorId: viewer.id });
  const eventId = randomUUID();
  const [row] = await insertDeliveries({
    rows: [
      {
        webhookId: webhook.id,
        eventId,
        eventType: "ping",
        payload: {
          id: eventId,
          type: "ping",
          createdAt: new Date().toISOString(),
          project,
          actor,
          data: { webhook: { id: webhook.id, url: webhook.url, events: webhook.events } },
        },
      },
    ],
  });
  if (!row) throw new Error("test delivery insert returned nothing");
  await enqueueDeliveries([row.id]);
  return { deliveryId: row.id };
});
