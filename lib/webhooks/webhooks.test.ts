import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { auditEvents, imageVersions, scheduledReleases, webhookDeliveries, webhooks } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import { queueBuild } from "@/db/queries/builds";
import { saveRecipe } from "@/db/queries/recipes";
import { moveChannelAction } from "@/lib/actions/channel-actions";
import { cancelBuildAction } from "@/lib/actions/recipe-actions";
import { changeReleaseAction } from "@/lib/actions/release-actions";
import {
  createWebhookAction,
  deleteWebhookAction,
  listWebhookDeliveriesAction,
  listWebhooksAction,
  redeliverWebhookAction,
  sendWebhookTestAction,
  updateWebhookAction,
} from "@/lib/actions/webhook-actions";
import { jobHandlers } from "@/lib/jobs/handlers";
import { startWorker, type JobHandlers, type Worker } from "@/lib/jobs/queue";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf, waitFor } from "@/tests/fixtures";
import { startWebhookReceiver, verifySignature, type WebhookReceiver } from "@/tests/webhook-receiver";
import { queueWebhookEvent } from "./events";

// Retries after about a second and short attempts, so backoff and timeouts are seen in seconds.
process.env.HANGAR_WEBHOOK_RETRY_DELAY = "1";
process.env.HANGAR_WEBHOOK_TIMEOUT = "2s";
// The operator's allow-list for URL imports applies to webhooks too: webhooks that owners make
// here point at this address, where nothing listens and which no event here is sent to.
process.env.HANGAR_URL_IMPORT_ALLOW_ADDRESSES = "127.0.0.3";
process.env.HANGAR_URL_IMPORT_PORTS = "9";

// Only deliveries run here; any other kind of job another test file left queued is dropped.
const noop = async () => {};
const handlers: JobHandlers = {
  ...(Object.fromEntries(Object.keys(jobHandlers).map((name) => [name, noop])) as unknown as JobHandlers),
  "webhook.deliver": jobHandlers["webhook.deliver"],
};

let worker: Worker;
let admin: Viewer;
let owner: Viewer;
let contributor: Viewer;
let outsider: Viewer;
let projectId: string;
const receivers: WebhookReceiver[] = [];

async function receiver(...args: Parameters<typeof startWebhookReceiver>) {
  const started = await startWebhookReceiver(...args);
  receivers.push(started);
  return started;
}

async function deliveriesOf(webhookId: string) {
  return db().select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, webhookId));
}

async function createInternal(url: string, events: string[], project: string | null = projectId) {
  const created = await createWebhookAction(admin, { projectId: project, url, events, allowInternal: true });
  if (!created.ok) throw new Error(created.message);
  return created.data;
}

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  owner = await createTestUser();
  contributor = await createTestUser();
  outsider = await createTestUser();
  ({ id: projectId } = await createTestProject({
    members: [
      { viewer: owner, role: "owner" },
      { viewer: contributor, role: "member" },
    ],
  }));
  // Memberships are read into the viewer when it is made.
  owner = (await viewerOf(owner.id))!;
  contributor = (await viewerOf(contributor.id))!;
  worker = await startWorker({ handlers, log: () => {} });
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

describe("webhook deliveries", () => {
  it("POSTs the event to a real server, signed with HMAC-SHA256 of the exact body", async () => {
    const target = await receiver();
    const { webhook, secret } = await createInternal(target.url, ["release.changed"]);
    expect(secret).toMatch(/^whsec_[0-9a-f]{48}$/);
    await queueWebhookEvent({ type: "release.changed", projectId, object: { hello: "world" }, actorId: owner.id });
    await waitFor(
      async () => target.received.length,
      (n) => n >= 1,
      20_000,
    );
    const [got] = target.received;
    expect(got!.headers["content-type"]).toBe("application/json");
    expect(got!.headers["user-agent"]).toBe("Hangar-Webhook");
    expect(got!.headers["x-hangar-event"]).toBe("release.changed");
    expect(verifySignature(secret, got!.body, got!.headers["x-hub-signature-256"])).toBe(true);
    expect(verifySignature("another secret entirely", got!.body, got!.headers["x-hub-signature-256"])).toBe(false);
    expect(got!.json).toMatchObject({
      type: "release.changed",
      project: { id: projectId },
      actor: { id: owner.id },
      data: { hello: "world" },
    });
    const [delivery] = await waitFor(
      () => deliveriesOf(webhook.id),
      (rows) => rows[0]?.status === "succeeded",
      10_000,
    );
    expect(got!.headers["x-hangar-delivery"]).toBe(delivery!.id);
    expect(delivery).toMatchObject({ attempts: 1, responseStatus: 200, responseExcerpt: "thanks", error: null });
    expect(delivery!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("retries after a 500 with backoff, then succeeds; the same body and delivery id each time", async () => {
    const target = await receiver({ answer: (index) => (index === 0 ? 500 : 200) });
    const { webhook, secret } = await createInternal(target.url, ["build.failed"]);
    await queueWebhookEvent({ type: "build.failed", projectId, object: { build: 1 } });
    await waitFor(
      async () => target.received.length,
      (n) => n >= 2,
      30_000,
    );
    const [first, second] = target.received;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(900);
    expect(second!.body.equals(first!.body)).toBe(true);
    expect(second!.headers["x-hangar-delivery"]).toBe(first!.headers["x-hangar-delivery"]);
    expect(verifySignature(secret, second!.body, second!.headers["x-hub-signature-256"])).toBe(true);
    const [delivery] = await waitFor(
      () => deliveriesOf(webhook.id),
      (rows) => rows[0]?.status === "succeeded",
      10_000,
    );
    expect(delivery).toMatchObject({ attempts: 2, responseStatus: 200 });
  });

  it("counts a receiver that does not answer in time as a failed attempt and retries it", async () => {
    const target = await receiver({ answer: (index) => (index === 0 ? "hang" : 204) });
    const { webhook } = await createInternal(target.url, ["clone.finished"]);
    await queueWebhookEvent({ type: "clone.finished", projectId, object: {} });
    // After the first (timed out) attempt the row says so, before the retry lands.
    const afterTimeout = await waitFor(
      () => deliveriesOf(webhook.id),
      (rows) => (rows[0]?.attempts ?? 0) >= 1,
      20_000,
    );
    if (afterTimeout[0]!.status === "pending") {
      expect(afterTimeout[0]!.error).toMatch(/no answer within 2 s/);
      expect(afterTimeout[0]!.responseStatus).toBeNull();
      expect(afterTimeout[0]!.durationMs).toBeGreaterThanOrEqual(1900);
    }
    const [delivery] = await waitFor(
      () => deliveriesOf(webhook.id),
      (rows) => rows[0]?.status === "succeeded",
      30_000,
    );
    expect(delivery).toMatchObject({ attempts: 2, responseStatus: 204, error: null });
    expect(target.received).toHaveLength(2);
  });

  it("ends failed after the last attempt, recording the status and the response excerpt", async () => {
    process.env.HANGAR_WEBHOOK_RETRY_DELAY = "1";
    const target = await receiver({ answer: () => 503 });
    const { webhook } = await createInternal(target.url, ["version.failed"]);
    const [row] = await db()
      .insert(webhookDeliveries)
      .values({
        webhookId: webhook.id,
        eventId: crypto.randomUUID(),
        eventType: "version.failed",
        payload: { x: 1 },
        attempts: 5,
      })
      .returning();
    // The sixth and last attempt: no retry after it.
    await jobHandlers["webhook.deliver"](
      { deliveryId: row!.id },
      { jobId: "x", signal: new AbortController().signal, timeLimitMs: null },
    ).catch(() => {});
    const [after] = await deliveriesOf(webhook.id);
    expect(after).toMatchObject({
      status: "failed",
      attempts: 6,
      responseStatus: 503,
      responseExcerpt: "receiver says 503",
    });
    expect(after!.error).toMatch(/503/);
  });

  it("sends a ping as a test event and redelivers a delivery as a new row", async () => {
    const target = await receiver();
    const { webhook } = await createInternal(target.url, ["version.ready"]);
    const ping = await sendWebhookTestAction(admin, { id: webhook.id });
    expect(ping.ok).toBe(true);
    await waitFor(
      async () => target.received.length,
      (n) => n >= 1,
      20_000,
    );
    expect(target.received[0]!.json.type).toBe("ping");
    expect(target.received[0]!.headers["x-hangar-event"]).toBe("ping");
    const original = ping.ok ? ping.data.deliveryId : "";
    await waitFor(
      () => deliveriesOf(webhook.id),
      (rows) => rows[0]?.status === "succeeded",
      10_000,
    );
    const again = await redeliverWebhookAction(admin, { deliveryId: original });
    expect(again.ok).toBe(true);
    await waitFor(
      async () => target.received.length,
      (n) => n >= 2,
      20_000,
    );
    expect(target.received[1]!.json.id).toBe(target.received[0]!.json.id);
    expect(target.received[1]!.headers["x-hangar-delivery"]).not.toBe(original);
    const listed = await listWebhookDeliveriesAction(admin, { id: webhook.id });
    expect(listed.ok && listed.data.find((d) => d.redeliveryOf === original)).toBeTruthy();
  });

  it("sends events of a real release change, after it committed, to the project's and global webhooks", async () => {
    const projectHook = await receiver();
    const globalHook = await receiver();
    await createInternal(projectHook.url, ["review.pending", "release.changed"]);
    await createInternal(globalHook.url, ["review.pending"], null);
    const otherProject = await createTestProject();
    const elsewhere = await receiver();
    await createInternal(elsewhere.url, ["review.pending", "release.changed"], otherProject.id);
    const image = await createTestImage({ projectId, versions: [{ releaseStatus: "draft" }] });
    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.imageId, image.id));
    const changed = await changeReleaseAction(owner, { versionId: version!.id, action: "submit", reason: "" });
    expect(changed.ok).toBe(true);
    await waitFor(
      async () => projectHook.received.length,
      (n) => n >= 2,
      20_000,
    );
    await waitFor(
      async () => globalHook.received.length,
      (n) => n >= 1,
      20_000,
    );
    expect(projectHook.received.map((r) => r.json.type).sort()).toEqual(["release.changed", "review.pending"]);
    const pending = projectHook.received.find((r) => r.json.type === "review.pending")!;
    expect(pending.json.data).toMatchObject({
      version: { id: version!.id, releaseStatus: "pending_review" },
      image: { id: image.id },
    });
    expect(pending.json.actor).toMatchObject({ id: owner.id });
    expect(globalHook.received[0]!.json.type).toBe("review.pending");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(elsewhere.received).toHaveLength(0);
  });
  it("sends channel.moved and build.cancelled from the real actions", async () => {
    const target = await receiver();
    const project = await createTestProject({ members: [{ viewer: owner, role: "owner" }] });
    owner = (await viewerOf(owner.id))!;
    await createInternal(target.url, ["channel.moved", "build.cancelled"], project.id);
    const base = await createTestImage({ projectId: project.id, versions: [{ version: "1.1" }] });
    const output = await createTestImage({ projectId: project.id, versions: [] });
    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.imageId, base.id));
    expect(await moveChannelAction(owner, { imageId: base.id, name: "stable", versionId: version!.id })).toMatchObject({
      ok: true,
    });
    const recipe = await saveRecipe({
      viewer: owner,
      projectId: project.id,
      document: {
        name: unique("recipe"),
        description: "",
        base: { image: base.slug, version: "1.1" },
        steps: [{ type: "write", path: "/etc/motd", content: "hello" }],
        output: { image: output.slug, format: "qcow2" },
      },
    });
    const queued = await queueBuild({ viewer: owner, recipeId: recipe.recipeId, send: async () => "not-sent" });
    if (!queued.queued) throw new Error("expected a queued build");
    expect(await cancelBuildAction(owner, { buildId: queued.buildId })).toMatchObject({ ok: true });
    await waitFor(
      async () => target.received.length,
      (n) => n >= 2,
      20_000,
    );
    const byType = Object.fromEntries(target.received.map((r) => [r.json.type, r.json]));
    expect(byType["channel.moved"]).toMatchObject({
      actor: { id: owner.id },
      data: { channel: "stable", version: { id: version!.id }, image: { id: base.id } },
    });
    expect(byType["build.cancelled"]).toMatchObject({
      project: { id: project.id },
      data: { build: { id: queued.buildId, status: "cancelled" }, recipe: { id: recipe.recipeId } },
    });
  });

  it("sends release.changed when a scheduled change is applied, naming who scheduled it", async () => {
    const target = await receiver();
    const otherProject = await createTestProject({ members: [{ viewer: owner, role: "owner" }] });
    await createInternal(target.url, ["release.changed"], otherProject.id);
    const image = await createTestImage({ projectId: otherProject.id, versions: [{ releaseStatus: "approved" }] });
    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.imageId, image.id));
    await db()
      .insert(scheduledReleases)
      .values({
        versionId: version!.id,
        action: "deprecate",
        runAt: new Date(Date.now() - 1000),
        createdById: owner.id,
      });
    await jobHandlers["release.apply-scheduled"](
      {},
      { jobId: "x", signal: new AbortController().signal, timeLimitMs: null },
    );
    await waitFor(
      async () => target.received.length,
      (n) => n >= 1,
      20_000,
    );
    expect(target.received[0]!.json).toMatchObject({
      type: "release.changed",
      actor: { id: owner.id },
      data: { action: "deprecate", version: { id: version!.id, releaseStatus: "deprecated" } },
    });
  });
});

describe("webhook management", () => {
  it("refuses private, loopback and non-HTTP URLs at creation, storing nothing", async () => {
    const before = await db().select().from(webhooks).where(eq(webhooks.projectId, projectId));
    for (const url of [
      "http://127.0.0.3:8080/not-an-allowed-port",
      "http://127.0.0.1/hook",
      "http://10.0.0.5/hook",
      "http://192.168.1.1/hook",
      "http://[::1]/hook",
      "http://localhost/hook",
      "ftp://example.org/hook",
      "file:///etc/passwd",
      "not a url",
    ]) {
      const result = await createWebhookAction(owner, { projectId, url, events: ["release.changed"] });
      expect(result, url).toMatchObject({ ok: false, code: "invalid" });
      if (!result.ok) expect(result.fieldErrors?.url?.[0], url).toBeTruthy();
    }
    const after = await db().select().from(webhooks).where(eq(webhooks.projectId, projectId));
    expect(after).toHaveLength(before.length);
  });

  it("honours the operator's allowed addresses, and lets only admins reach other internal ones", async () => {
    const result = await createWebhookAction(owner, {
      projectId,
      url: "http://127.0.0.1:9/hook",
      events: ["release.changed"],
      allowInternal: true,
    });
    expect(result).toMatchObject({ ok: false, code: "forbidden" });
  });

  it("lets project owners manage their webhooks, audited, and nobody else", async () => {
    // A public address that is never contacted: nothing subscribes it to an event sent here.
    const created = await createWebhookAction(owner, {
      projectId,
      url: "http://127.0.0.3:9/hook",
      events: ["build.succeeded"],
      secret: "a-secret-of-enough-length",
    });
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(created.data.secret).toBe("a-secret-of-enough-length");
    const id = created.data.webhook.id;
    const audit = await db().select().from(auditEvents).where(eq(auditEvents.objectId, id));
    expect(audit.map((a) => a.action)).toEqual(["webhook.create"]);
    expect(JSON.stringify(audit[0]!.after)).not.toContain("a-secret-of-enough-length");

    const listed = await listWebhooksAction(owner, { projectId });
    expect(listed.ok && listed.data.some((w) => w.id === id)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain("a-secret-of-enough-length");

    // A contributor sees and changes nothing; an outsider doesn't learn the project exists.
    for (const [viewer, code] of [
      [contributor, "forbidden"],
      [outsider, "not_found"],
    ] as const) {
      expect(
        await createWebhookAction(viewer, { projectId, url: "http://127.0.0.3:9/x", events: ["build.failed"] }),
      ).toMatchObject({ ok: false, code });
      expect(await listWebhooksAction(viewer, { projectId })).toMatchObject({ ok: false, code });
      expect(await updateWebhookAction(viewer, { id, active: false })).toMatchObject({ ok: false, code });
      expect(await deleteWebhookAction(viewer, { id })).toMatchObject({ ok: false, code });
      expect(await sendWebhookTestAction(viewer, { id })).toMatchObject({ ok: false, code });
      expect(await listWebhookDeliveriesAction(viewer, { id })).toMatchObject({ ok: false, code });
    }
    const [unchanged] = await db().select().from(webhooks).where(eq(webhooks.id, id));
    expect(unchanged).toMatchObject({ active: true, events: ["build.succeeded"] });
    expect(await deliveriesOf(id)).toHaveLength(0);

    const updated = await updateWebhookAction(owner, {
      id,
      active: false,
      events: ["build.failed", "build.cancelled"],
    });
    expect(updated).toMatchObject({ ok: true, data: { active: false, events: ["build.failed", "build.cancelled"] } });
    const refusedUrl = await updateWebhookAction(owner, { id, url: "http://169.254.169.254/latest" });
    expect(refusedUrl).toMatchObject({ ok: false, code: "invalid" });
    expect(await deleteWebhookAction(owner, { id })).toMatchObject({ ok: true });
    const trail = await db().select().from(auditEvents).where(eq(auditEvents.objectId, id));
    expect(trail.map((a) => a.action).sort()).toEqual(["webhook.create", "webhook.delete", "webhook.update"]);
  });

  it("keeps global webhooks to admins", async () => {
    const before = await db().select().from(webhooks);
    const refused = await createWebhookAction(owner, {
      projectId: null,
      url: "http://127.0.0.3:9/g",
      events: ["build.failed"],
    });
    expect(refused).toMatchObject({ ok: false, code: "forbidden" });
    expect(await listWebhooksAction(owner, { projectId: null })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await db().select().from(webhooks)).toHaveLength(before.length);
    const made = await createWebhookAction(admin, {
      projectId: null,
      url: "http://127.0.0.3:9/g",
      events: ["build.failed"],
    });
    expect(made.ok).toBe(true);
    if (made.ok) {
      expect(await updateWebhookAction(owner, { id: made.data.webhook.id, active: false })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      await deleteWebhookAction(admin, { id: made.data.webhook.id });
    }
  });

  it("never throws into the caller, even when the database refuses the event", async () => {
    await expect(
      queueWebhookEvent({ type: "release.changed", projectId: "not-a-uuid", object: {} }),
    ).resolves.toBeUndefined();
  });
});
