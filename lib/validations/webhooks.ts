import { z } from "zod";
import { webhookEventTypes } from "@/db/enums";

/** What a person may subscribe to; `ping` is only sent by "Send test event". */
export const subscribableWebhookEvents = webhookEventTypes.filter((type) => type !== "ping");

const url = z.string().trim().min(1, "Enter the URL to send events to.").max(2000, "That URL is too long.");
const events = z
  .array(z.enum(subscribableWebhookEvents as [string, ...string[]]), { message: "Choose the events to send." })
  .min(1, "Choose at least one event to send.")
  .transform((list) => [...new Set(list)] as (typeof subscribableWebhookEvents)[number][]);
const description = z.string().trim().max(200, "Keep the description under 200 characters.");

export const createWebhookSchema = z.object({
  /** Null or absent: a global webhook (admins only). */
  projectId: z.string().uuid("Say which project.").nullable().default(null),
  url,
  events,
  description: description.default(""),
  /** Generated (and shown once) when left empty. */
  secret: z
    .string()
    .trim()
    .max(200, "Keep the secret under 200 characters.")
    .refine(
      (value) => value === "" || value.length >= 16,
      "A secret needs at least 16 characters; leave it empty to have one generated.",
    )
    .default(""),
  active: z.boolean().default(true),
  /** Admins only: deliveries may go to loopback and private addresses. */
  allowInternal: z.boolean().default(false),
});

export const updateWebhookSchema = z.object({
  id: z.string().uuid("Say which webhook."),
  url: url.optional(),
  events: events.optional(),
  active: z.boolean().optional(),
  description: description.optional(),
  allowInternal: z.boolean().optional(),
});

export const webhookIdSchema = z.object({ id: z.string().uuid("Say which webhook.") });
export const deleteWebhookSchema = webhookIdSchema;
export const sendWebhookTestSchema = webhookIdSchema;
export const listWebhookDeliveriesSchema = webhookIdSchema;

export const listWebhooksSchema = z.object({
  projectId: z.string().uuid("Say which project.").nullable().default(null),
});

export const redeliverWebhookSchema = z.object({ deliveryId: z.string().uuid("Say which delivery.") });
