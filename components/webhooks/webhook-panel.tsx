"use client";

import { useRouter } from "next/navigation";
import { useEffect, useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { useServerAction } from "@/components/ui/use-server-action";
import type { WebhookDeliverySummary, WebhookSummary } from "@/db/queries/webhooks";
import {
  createWebhookServerAction,
  deleteWebhookServerAction,
  redeliverWebhookServerAction,
  sendWebhookTestServerAction,
  updateWebhookServerAction,
} from "@/lib/actions/webhooks";
import { createWebhookSchema, subscribableWebhookEvents } from "@/lib/validations/webhooks";

export type WebhookWithDeliveries = WebhookSummary & { deliveries: WebhookDeliverySummary[] };

const eventLabels: Record<(typeof subscribableWebhookEvents)[number], string> = {
  "version.ready": "Version ready",
  "version.failed": "Version failed",
  "version.deleted": "Version deleted",
  "review.pending": "Review pending",
  "review.approved": "Approved",
  "review.rejected": "Rejected",
  "release.changed": "Release changed",
  "build.started": "Build started",
  "build.succeeded": "Build succeeded",
  "build.failed": "Build failed",
  "build.cancelled": "Build cancelled",
  "channel.moved": "Channel moved",
  "clone.finished": "Clone finished",
};

export function CreateWebhookForm({
  projectId,
  canAllowInternal,
}: {
  projectId: string | null;
  canAllowInternal: boolean;
}) {
  const action = useServerAction();
  const id = useId();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [secret, setSecret] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const [allowInternal, setAllowInternal] = useState(false);
  const [shownSecret, setShownSecret] = useState<string | null>(null);
  const eventsError = action.fieldError("events");

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const input = { projectId, url, description, secret, events, allowInternal };
    if (!action.check(createWebhookSchema, input)) return;
    action.run(() => createWebhookServerAction(input), {
      success: "Webhook added.",
      onSuccess: (data) => {
        setShownSecret(data.secret);
        setUrl("");
        setDescription("");
        setSecret("");
        setEvents([]);
        setAllowInternal(false);
      },
    });
  }

  return (
    <form
      onSubmit={submit}
      className="max-w-2xl space-y-3 rounded-md border border-line p-4"
      aria-label="Add a webhook"
    >
      <h2 className="text-base font-semibold">Add a webhook</h2>
      <Field
        id={`${id}-url`}
        label="Payload URL"
        error={action.fieldError("url")}
        hint="Events are POSTed here as JSON."
      >
        <Input
          id={`${id}-url`}
          type="url"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://ci.example.org/hooks/hangar"
          aria-invalid={action.fieldError("url") ? true : undefined}
          aria-describedby={action.fieldError("url") ? `${id}-url-error` : `${id}-url-hint`}
          required
        />
      </Field>
      <Field id={`${id}-description`} label="Description (optional)" error={action.fieldError("description")}>
        <Input id={`${id}-description`} value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <Field
        id={`${id}-secret`}
        label="Secret (optional)"
        error={action.fieldError("secret")}
        hint="Leave empty to have one generated. It signs every delivery (X-Hub-Signature-256) and is shown once."
      >
        <Input
          id={`${id}-secret`}
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          autoComplete="off"
          aria-describedby={action.fieldError("secret") ? `${id}-secret-error` : `${id}-secret-hint`}
        />
      </Field>
      <fieldset className="space-y-1" aria-describedby={eventsError ? `${id}-events-error` : undefined}>
        <legend className="text-xs font-medium text-muted">Events to send</legend>
        <div className="grid grid-cols-2 gap-x-4 gap-y-1 sm:grid-cols-3">
          {subscribableWebhookEvents.map((type) => (
            <label key={type} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                checked={events.includes(type)}
                onChange={(e) =>
                  setEvents((list) => (e.target.checked ? [...list, type] : list.filter((item) => item !== type)))
                }
              />
              {eventLabels[type]}
            </label>
          ))}
        </div>
        {eventsError ? (
          <p id={`${id}-events-error`} className="text-xs text-danger">
            {eventsError}
          </p>
        ) : null}
      </fieldset>
      {canAllowInternal ? (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={allowInternal} onChange={(e) => setAllowInternal(e.target.checked)} />
          Allow internal addresses (loopback and private networks; admins only)
        </label>
      ) : null}
      <Button type="submit" variant="primary" disabled={action.pending}>
        {action.pending ? "Adding…" : "Add webhook"}
      </Button>
      <ActionMessage outcome={action.outcome} fieldsShown={["url", "description", "secret", "events"]} />
      {shownSecret ? (
        <div role="note" className="space-y-1 rounded-md border border-line bg-raised p-3 text-sm">
          <p className="font-medium">Copy the secret now: it is not shown again.</p>
          <code className="block break-all" aria-label="Webhook secret">
            {shownSecret}
          </code>
        </div>
      ) : null}
    </form>
  );
}

function deliveryTone(status: WebhookDeliverySummary["status"]) {
  return status === "succeeded" ? "success" : status === "failed" ? "danger" : "warning";
}

export function WebhookList({ webhooks }: { webhooks: WebhookWithDeliveries[] }) {
  const router = useRouter();
  const anyPending = webhooks.some((webhook) => webhook.deliveries.some((delivery) => delivery.status === "pending"));
  // Deliveries run in the background; while one is pending the page refreshes itself.
  useEffect(() => {
    if (!anyPending) return;
    const timer = setInterval(() => router.refresh(), 2000);
    return () => clearInterval(timer);
  }, [anyPending, router]);
  if (webhooks.length === 0) return <p className="text-sm text-muted">No webhooks yet.</p>;
  return (
    <ul className="space-y-6" aria-label="Webhooks">
      {webhooks.map((webhook) => (
        <li key={webhook.id}>
          <WebhookCard webhook={webhook} />
        </li>
      ))}
    </ul>
  );
}

function WebhookCard({ webhook }: { webhook: WebhookWithDeliveries }) {
  const action = useServerAction();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="space-y-3 rounded-md border border-line p-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="space-y-1">
          <h3 id={headingId} className="break-all text-sm font-semibold">
            {webhook.url}
          </h3>
          <p className="text-xs text-muted">
            {webhook.description ? `${webhook.description} · ` : ""}
            {webhook.events.join(", ")}
          </p>
          <div className="flex gap-2">
            <Badge tone={webhook.active ? "success" : "neutral"}>{webhook.active ? "Active" : "Inactive"}</Badge>
            {webhook.allowInternal ? <Badge tone="warning">Internal addresses allowed</Badge> : null}
          </div>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button
            size="sm"
            variant="secondary"
            disabled={action.pending}
            onClick={() =>
              action.run(() => sendWebhookTestServerAction({ id: webhook.id }), { success: "Test event sent." })
            }
          >
            Send test event
          </Button>
          <Button
            size="sm"
            variant="secondary"
            disabled={action.pending}
            onClick={() =>
              action.run(() => updateWebhookServerAction({ id: webhook.id, active: !webhook.active }), {
                success: webhook.active ? "Webhook deactivated." : "Webhook activated.",
              })
            }
          >
            {webhook.active ? "Deactivate" : "Activate"}
          </Button>
          <Button
            size="sm"
            variant="danger"
            disabled={action.pending}
            onClick={() => {
              if (window.confirm(`Delete the webhook to ${webhook.url} and its deliveries?`))
                action.run(() => deleteWebhookServerAction({ id: webhook.id }), { success: "Webhook deleted." });
            }}
          >
            Delete
          </Button>
        </div>
      </div>
      <ActionMessage outcome={action.outcome} />
      {webhook.deliveries.length ? (
        <Table label={`Recent deliveries to ${webhook.url}`}>
          <thead>
            <tr>
              <Th>Event</Th>
              <Th>Status</Th>
              <Th>Response</Th>
              <Th>Duration</Th>
              <Th>Attempts</Th>
              <Th>Time</Th>
              <Th>
                <span className="sr-only">Actions</span>
              </Th>
            </tr>
          </thead>
          <tbody>
            {webhook.deliveries.map((delivery) => (
              <Tr key={delivery.id}>
                <Td>
                  {delivery.eventType}
                  {delivery.redeliveryOf ? <span className="text-muted"> (redelivery)</span> : null}
                </Td>
                <Td>
                  <Badge tone={deliveryTone(delivery.status)}>{delivery.status}</Badge>
                </Td>
                <Td className="max-w-xs">
                  <span className="font-mono">{delivery.responseStatus ?? "—"}</span>
                  {delivery.error ? <span className="block text-xs text-danger">{delivery.error}</span> : null}
                  {delivery.responseExcerpt ? (
                    <details className="text-xs">
                      <summary>Response body</summary>
                      <pre className="whitespace-pre-wrap break-all">{delivery.responseExcerpt}</pre>
                    </details>
                  ) : null}
                </Td>
                <Td>{delivery.durationMs === null ? "—" : `${delivery.durationMs} ms`}</Td>
                <Td>{delivery.attempts}</Td>
                <Td>
                  <RelativeTime date={delivery.lastAttemptAt ?? delivery.createdAt} />
                </Td>
                <Td>
                  <Button
                    size="sm"
                    variant="ghost"
                    disabled={action.pending}
                    aria-label={`Redeliver ${delivery.eventType} from ${delivery.createdAt.toISOString()}`}
                    onClick={() =>
                      action.run(() => redeliverWebhookServerAction({ deliveryId: delivery.id }), {
                        success: "Sent again as a new delivery.",
                      })
                    }
                  >
                    Redeliver
                  </Button>
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <p className="text-sm text-muted">No deliveries yet. Send a test event to check the receiver.</p>
      )}
    </section>
  );
}
