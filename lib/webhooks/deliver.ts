// One delivery attempt per job run: a signed JSON POST to the checked address, never following a
// redirect. A non-2xx answer, a refused URL or a timeout records the attempt and throws so pg-boss
// retries it with backoff; the last attempt marks the delivery failed.
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { findDeliveryTarget, recordDeliveryAttempt } from "@/db/queries/webhooks";
import { env } from "@/lib/env";
import { UrlRefused, type CheckedTarget } from "@/lib/imports/url-fetch";
import { WEBHOOK_ATTEMPTS } from "./events";
import { checkWebhookUrl } from "./target";

const EXCERPT_BYTES = 1024;

/** GitHub's convention, so existing verifiers work: `sha256=` + hex HMAC of the exact body bytes. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

interface AttemptOutcome {
  status: number | null;
  excerpt: string | null;
  error: string | null;
}

function post(
  target: CheckedTarget,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AttemptOutcome> {
  const client = target.url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = client.request(
      {
        protocol: target.url.protocol,
        host: target.address,
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: "POST",
        headers: { ...headers, host: target.url.host, "content-length": String(body.length) },
        servername: net.isIP(target.url.hostname.replace(/^\[|\]$/g, "")) ? undefined : target.url.hostname,
        lookup: (_hostname, _options, callback) => callback(null, target.address, net.isIPv6(target.address) ? 6 : 4),
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
          if (size >= EXCERPT_BYTES) response.destroy();
        });
        const done = () =>
          finish({
            status: response.statusCode ?? null,
            excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString("utf8"),
            error: null,
          });
        response.on("end", done);
        response.on("close", done);
        response.on("error", done);
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish({ status: null, excerpt: null, error: `no answer within ${Math.round(timeoutMs / 1000)} s` });
    }, timeoutMs);
    request.on("error", (error) => finish({ status: null, excerpt: null, error: error.message }));
    request.end(body);
  });
}

export class DeliveryFailed extends Error {}

export async function runWebhookDelivery(
  { deliveryId }: { deliveryId: string },
  { signal, timeoutMs = env().HANGAR_WEBHOOK_TIMEOUT }: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  const found = await findDeliveryTarget({ id: deliveryId });
  // Deleted with its webhook, or already done (a retry after a crash): nothing to send.
  if (!found || found.delivery.status !== "pending") return;
  const { delivery } = found;
  const attempts = delivery.attempts + 1;
  const body = Buffer.from(JSON.stringify(delivery.payload));
  const started = performance.now();
  let outcome: AttemptOutcome;
  try {
    const target = await checkWebhookUrl(found.url, { allowInternal: found.allowInternal });
    outcome = await post(
      target,
      body,
      {
        "content-type": "application/json",
        "user-agent": "Hangar-Webhook",
        "x-hangar-event": delivery.eventType,
        "x-hangar-delivery": delivery.id,
        "x-hub-signature-256": signWebhookBody(found.secret, body),
      },
      timeoutMs,
      signal,
    );
  } catch (error) {
    outcome = {
      status: null,
      excerpt: null,
      error: error instanceof UrlRefused ? error.userMessage : (error as Error).message,
    };
  }
  const durationMs = Math.round(performance.now() - started);
  const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
  const status = ok ? "succeeded" : attempts >= WEBHOOK_ATTEMPTS ? "failed" : "pending";
  await recordDeliveryAttempt({
    id: delivery.id,
    status,
    attempts,
    responseStatus: outcome.status,
    responseExcerpt: outcome.excerpt,
    durationMs,
    error: ok ? null : (outcome.error ?? `the receiver answered ${outcome.status}`),
  });
  if (status === "pending") throw new DeliveryFailed(`webhook delivery ${delivery.id} attempt ${attempts} failed`);
}
