import { and, arrayContains, desc, eq, inArray, isNull, or } from "drizzle-orm";
import { db } from "../client";
import { recordAudit } from "./audit";
import { builds, images, imageVersions, projects, recipes, users, webhookDeliveries, webhooks } from "../schema";
import type { WebhookDeliveryStatus, WebhookEventType } from "../enums";

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

export async function insertWebhook({
  values,
}: {
  values: {
    projectId: string | null;
    url: string;
    secret: string;
    events: WebhookEventType[];
    description: string;
    active: boolean;
    allowInternal: boolean;
    createdById: string;
  };
}): Promise<WebhookRow> {
  return db().transaction(async (tx) => {
    const [row] = await tx.insert(webhooks).values(values).returning();
    if (!row) throw new Error("webhook insert returned nothing");
    await recordAudit(
      {
        actorId: values.createdById,
        action: "webhook.create",
        objectType: "webhook",
        objectId: row.id,
        after: webhookWithoutSecret(row),
      },
      tx,
    );
    return row;
  });
}

/** A webhook as the audit log and every answer show it: everything but its secret. */
export function webhookWithoutSecret(row: WebhookRow) {
  return {
    projectId: row.projectId,
    url: row.url,
    events: row.events,
    description: row.description,
    active: row.active,
    allowInternal: row.allowInternal,
  };
}

export async function findWebhook({ id }: { id: string }): Promise<WebhookRow | null> {
  const [row] = await db().select().from(webhooks).where(eq(webhooks.id, id));
  return row ?? null;
}

export async function updateWebhook({
  id,
  actorId,
  changes,
}: {
  id: string;
  actorId: string;
  changes: Partial<Pick<WebhookRow, "url" | "events" | "active" | "description" | "allowInternal">>;
}): Promise<WebhookRow | null> {
  return db().transaction(async (tx) => {
    const [before] = await tx.select().from(webhooks).where(eq(webhooks.id, id)).for("update");
    if (!before) return null;
    const [row] = await tx.update(webhooks).set(changes).where(eq(webhooks.id, id)).returning();
    if (!row) return null;
    await recordAudit(
      {
        actorId,
        action: "webhook.update",
        objectType: "webhook",
        objectId: id,
        before: webhookWithoutSecret(before),
        after: webhookWithoutSecret(row),
      },
      tx,
    );
    return row;
  });
}

export async function deleteWebhook({ id, actorId }: { id: string; actorId: string }): Promise<boolean> {
  return db().transaction(async (tx) => {
    const [row] = await tx.delete(webhooks).where(eq(webhooks.id, id)).returning();
    if (!row) return false;
    await recordAudit(
      { actorId, action: "webhook.delete", objectType: "webhook", objectId: id, before: webhookWithoutSecret(row) },
      tx,
    );
    return true;
  });
}

/** A project's webhooks, or the global ones when projectId is null; never their secrets. */
export async function listWebhooks({ projectId }: { projectId: string | null }) {
  return db()
    .select({
      id: webhooks.id,
      projectId: webhooks.projectId,
      url: webhooks.url,
      events: webhooks.events,
      description: webhooks.description,
      active: webhooks.active,
      allowInternal: webhooks.allowInternal,
      createdAt: webhooks.createdAt,
    })
    .from(webhooks)
    .where(projectId === null ? isNull(webhooks.projectId) : eq(webhooks.projectId, projectId))
    .orderBy(webhooks.createdAt);
}
export type WebhookSummary = Awaited<ReturnType<typeof listWebhooks>>[number];

/** Active webhooks that want this event: the project's own and every global one. */
export async function listSubscribedWebhooks({
  projectId,
  type,
}: {
  projectId: string | null;
  type: WebhookEventType;
}): Promise<{ id: string }[]> {
  const scope =
    projectId === null ? isNull(webhooks.projectId) : or(isNull(webhooks.projectId), eq(webhooks.projectId, projectId));
  return db()
    .select({ id: webhooks.id })
    .from(webhooks)
    .where(and(eq(webhooks.active, true), arrayContains(webhooks.events, [type]), scope));
}

export async function findEventContext({ projectId, actorId }: { projectId: string | null; actorId: string | null }) {
  const [project] = projectId
    ? await db().select({ id: projects.id, slug: projects.slug }).from(projects).where(eq(projects.id, projectId))
    : [];
  const [actor] = actorId
    ? await db().select({ id: users.id, email: users.email, name: users.name }).from(users).where(eq(users.id, actorId))
    : [];
  return { project: project ?? null, actor: actor ?? null };
}

export async function insertDeliveries({
  rows,
}: {
  rows: {
    webhookId: string;
    eventId: string;
    eventType: WebhookEventType;
    payload: unknown;
    redeliveryOf?: string | null;
  }[];
}): Promise<{ id: string }[]> {
  if (rows.length === 0) return [];
  return db().insert(webhookDeliveries).values(rows).returning({ id: webhookDeliveries.id });
}

export async function findDelivery({ id }: { id: string }): Promise<WebhookDeliveryRow | null> {
  const [row] = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row ?? null;
}

/** What the delivery job needs: the delivery and its webhook's target and secret. */
export async function findDeliveryTarget({ id }: { id: string }) {
  const [row] = await db()
    .select({
      delivery: webhookDeliveries,
      url: webhooks.url,
      secret: webhooks.secret,
      allowInternal: webhooks.allowInternal,
    })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .where(eq(webhookDeliveries.id, id));
  return row ?? null;
}

export async function recordDeliveryAttempt({
  id,
  status,
  attempts,
  responseStatus,
  responseExcerpt,
  durationMs,
  error,
}: {
  id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  responseStatus: number | null;
  responseExcerpt: string | null;
  durationMs: number;
  error: string | null;
}): Promise<void> {
  const now = new Date();
  await db()
    .update(webhookDeliveries)
    .set({
      status,
      attempts,
      responseStatus,
      responseExcerpt,
      durationMs,
      error,
      lastAttemptAt: now,
      ...(status === "succeeded" ? { deliveredAt: now } : {}),
    })
    .where(eq(webhookDeliveries.id, id));
}

export async function listDeliveries({ webhookIds, limit = 20 }: { webhookIds: string[]; limit?: number }) {
  if (webhookIds.length === 0) return [];
  return db()
    .select({
      id: webhookDeliveries.id,
      webhookId: webhookDeliveries.webhookId,
      eventId: webhookDeliveries.eventId,
      eventType: webhookDeliveries.eventType,
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      responseStatus: webhookDeliveries.responseStatus,
      responseExcerpt: webhookDeliveries.responseExcerpt,
      durationMs: webhookDeliveries.durationMs,
      error: webhookDeliveries.error,
      redeliveryOf: webhookDeliveries.redeliveryOf,
      createdAt: webhookDeliveries.createdAt,
      lastAttemptAt: webhookDeliveries.lastAttemptAt,
    })
    .from(webhookDeliveries)
    .where(inArray(webhookDeliveries.webhookId, webhookIds))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(limit * webhookIds.length);
}
export type WebhookDeliverySummary = Awaited<ReturnType<typeof listDeliveries>>[number];

/** A version as webhook events describe it, with its image and project. */
export async function findVersionForEvent({ versionId }: { versionId: string }) {
  const [row] = await db()
    .select({
      projectId: images.projectId,
      version: {
        id: imageVersions.id,
        version: imageVersions.version,
        format: imageVersions.format,
        sha256: imageVersions.sha256,
        dataStatus: imageVersions.dataStatus,
        releaseStatus: imageVersions.releaseStatus,
      },
      image: { id: images.id, slug: images.slug, name: images.name },
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(eq(imageVersions.id, versionId));
  return row ?? null;
}

/** A build as webhook events describe it, with its recipe and project. */
export async function findBuildForEvent({ buildId }: { buildId: string }) {
  const [row] = await db()
    .select({
      projectId: recipes.projectId,
      build: {
        id: builds.id,
        number: builds.number,
        status: builds.status,
        failureReason: builds.failureReason,
        outputVersionId: builds.outputVersionId,
        baseVersionId: builds.baseVersionId,
      },
      recipe: { id: recipes.id, name: recipes.name },
      requestedById: builds.requestedById,
    })
    .from(builds)
    .innerJoin(recipes, eq(recipes.id, builds.recipeId))
    .where(eq(builds.id, buildId));
  return row ?? null;
}
