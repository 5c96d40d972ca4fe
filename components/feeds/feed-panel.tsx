"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Badge } from "@/components/ui/badge";
import { CopyStatus, useCopyText } from "@/components/ui/copy-text";
import { Button } from "@/components/ui/button";
import { cx } from "@/components/ui/cx";
import { Field, Input, Textarea } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { useServerAction } from "@/components/ui/use-server-action";
import type { FeedListing } from "@/lib/actions/feed-actions";
import { createFeedServerAction, revokeFeedServerAction, setPublicFeedServerAction } from "@/lib/actions/feeds";
import type { FeedEndpoints } from "@/lib/feeds/endpoints";
import { createFeedSchema } from "@/lib/validations/platforms";

/**
 * The create form. The URL the action returns holds the feed's secret: it is kept only in this
 * component's state, shown once, and gone on reload.
 */
export function CreateFeedForm({
  project,
  defaultName,
}: {
  /** A project's slug and name for a feed of its published images; null for everything (admins). */
  project: { slug: string; name: string } | null;
  defaultName: string;
}) {
  const action = useServerAction();
  const id = useId();
  const [name, setName] = useState(defaultName);
  const [created, setCreated] = useState<{ endpoints: FeedEndpoints; name: string } | null>(null);

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const input = { name, project: project?.slug ?? null };
    if (!action.check(createFeedSchema, input)) return;
    setCreated(null);
    action.run(() => createFeedServerAction(input), {
      success: (data) => `Feed “${data.feed.name}” created.`,
      onSuccess: (data) => {
        setCreated({ endpoints: data.endpoints, name: data.feed.name });
        // As the token form does: the next feed starts from an empty name.
        setName("");
      },
    });
  }

  const heading = project ? `New feed of ${project.name}` : "New feed of every project";
  return (
    <div className="max-w-3xl space-y-4">
      <form onSubmit={submit} className="space-y-3 rounded-md border border-line p-4" aria-label={heading}>
        <h2 className="text-base font-semibold">{heading}</h2>
        <p className="text-sm text-muted">
          {project
            ? `The feed offers ${project.name}’s published images to platforms, read as you with a viewer’s rights in this project.`
            : "The feed offers every published image you may see, read as you."}{" "}
          Platforms send no credentials: the feed&rsquo;s URL is its only key.
        </p>
        <Field
          id={`${id}-name`}
          label="Feed name"
          error={action.fieldError("name")}
          hint="Say which platform reads it, so you know what breaks when you revoke it."
        >
          <Input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="OpenNebula prod"
            maxLength={100}
            autoComplete="off"
            aria-invalid={action.fieldError("name") ? true : undefined}
            aria-describedby={action.fieldError("name") ? `${id}-name-error` : `${id}-name-hint`}
            required
          />
        </Field>
        <Button type="submit" variant="primary" disabled={action.pending}>
          {action.pending ? "Creating…" : "Create feed"}
        </Button>
        <ActionMessage outcome={action.outcome} fieldsShown={["name"]} />
      </form>
      {created ? <FeedUrls endpoints={created.endpoints} heading={`The URL of “${created.name}”`} once /> : null}
    </div>
  );
}

/** A feed's base URL with a copy button, and the addresses each platform reads under it. */
export function FeedUrls({
  endpoints,
  heading,
  once = false,
}: {
  endpoints: FeedEndpoints;
  heading: string;
  once?: boolean;
}) {
  const id = useId();
  const { copied, copy: copyText } = useCopyText();
  const copy = () => copyText(endpoints.url, `${id}-url`);

  return (
    <section
      aria-labelledby={`${id}-heading`}
      className={cx(
        "space-y-3 rounded-md border p-4 text-sm",
        once ? "border-accent bg-accent-soft/40" : "border-line",
      )}
    >
      <h2 id={`${id}-heading`} className="text-base font-semibold">
        {heading}
      </h2>
      {once ? (
        <p className="font-medium">
          Copy it now: you won&rsquo;t see it again. Hangar keeps only a hash of it; anyone with the URL can read the
          feed.
        </p>
      ) : null}
      <div className="flex gap-2">
        {/* A textarea, not an input: Chromium clips a one-line input's underscores (hgf_) at the baseline. */}
        <Textarea
          id={`${id}-url`}
          aria-label="Feed URL"
          readOnly
          rows={1}
          value={endpoints.url}
          onFocus={(e) => e.currentTarget.select()}
          className="resize-none break-all font-mono"
        />
        <Button onClick={copy}>Copy</Button>
      </div>
      <CopyStatus copied={copied} />
      <dl className="space-y-2">
        <div>
          <dt className="font-medium">OpenNebula marketplace ENDPOINT</dt>
          <dd>
            <code className="break-all">{endpoints.opennebula}</code>
          </dd>
        </div>
        <div>
          <dt className="font-medium">simplestreams (LXD, Incus, sstream-mirror-glance)</dt>
          <dd>
            <code className="break-all">{endpoints.simplestreams}</code>
          </dd>
        </div>
        <div>
          <dt className="font-medium">Channel lookup (deploy scripts, Terraform)</dt>
          <dd>
            <code className="break-all">{endpoints.channelLookup}</code>
          </dd>
        </div>
      </dl>
    </section>
  );
}

const statusTone = { active: "success", revoked: "neutral" } as const;

const scopeOf = (feed: FeedListing) =>
  feed.kind === "public" ? "public images" : feed.projectSlug ? `project ${feed.projectSlug}` : "every project";

/** Feeds as a table: name, scope, who made it and when, last use, uses, status, and revoke. */
export function FeedList({ feeds, label }: { feeds: FeedListing[]; label: string }) {
  const action = useServerAction();
  if (feeds.length === 0) return <p className="text-sm text-muted">No feeds yet.</p>;
  return (
    <div className="space-y-2">
      <ActionMessage outcome={action.outcome} />
      <Table label={label}>
        <thead>
          <tr>
            <Th>Name</Th>
            <Th>Scope</Th>
            <Th>URL</Th>
            <Th>Created</Th>
            <Th>Last used</Th>
            <Th>Uses</Th>
            <Th>Status</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </thead>
        <tbody>
          {feeds.map((feed) => {
            const shown = feed.kind === "public" ? "/feeds/public/" : `/feeds/${feed.prefix}…`;
            return (
              <Tr key={feed.id} className={cx(feed.status === "revoked" && "text-muted")}>
                <Td className="font-medium">{feed.name}</Td>
                <Td>{scopeOf(feed)}</Td>
                <Td>
                  <code>{shown}</code>
                </Td>
                <Td>
                  <RelativeTime date={feed.createdAt} />
                  <span className="block text-xs text-muted">by {feed.createdByEmail}</span>
                </Td>
                <Td>
                  {feed.lastUsedAt ? (
                    <>
                      <RelativeTime date={feed.lastUsedAt} />
                      {feed.lastUsedAddress ? (
                        <span className="block text-xs text-muted">from {feed.lastUsedAddress}</span>
                      ) : null}
                    </>
                  ) : (
                    "Never"
                  )}
                </Td>
                <Td>{feed.useCount}</Td>
                <Td>
                  <Badge tone={statusTone[feed.status]}>{feed.status}</Badge>
                  {feed.revokedAt ? (
                    <span className="block text-xs">
                      <RelativeTime date={feed.revokedAt} />
                    </span>
                  ) : null}
                </Td>
                <Td>
                  {feed.canRevoke && feed.status !== "revoked" && feed.kind === "token" ? (
                    <Button
                      size="sm"
                      variant="danger"
                      disabled={action.pending}
                      aria-label={`Revoke ${feed.name} (${shown})`}
                      onClick={() => {
                        if (
                          window.confirm(
                            `Revoke “${feed.name}” (${shown})? Platforms reading it get 404 from the next request on.`,
                          )
                        )
                          action.run(() => revokeFeedServerAction({ id: feed.id }), {
                            success: `Feed “${feed.name}” revoked.`,
                          });
                      }}
                    >
                      Revoke
                    </Button>
                  ) : null}
                </Td>
              </Tr>
            );
          })}
        </tbody>
      </Table>
    </div>
  );
}

/** The admin's switch for the anonymous feed of public, published images, with its URL while it is on. */
export function PublicFeedSwitch({ enabled, endpoints }: { enabled: boolean; endpoints: FeedEndpoints }) {
  const action = useServerAction();
  const id = useId();
  // Shown switched at once; put back if the server refuses.
  const [on, setOn] = useState(enabled);
  return (
    <div className="max-w-3xl space-y-3">
      <div className="flex items-center gap-3">
        <input
          id={`${id}-public`}
          type="checkbox"
          role="switch"
          className="h-4 w-4"
          checked={on}
          disabled={action.pending}
          aria-describedby={`${id}-public-hint`}
          onChange={(e) => {
            const next = e.target.checked;
            setOn(next);
            action.run(() => setPublicFeedServerAction({ enabled: next }), {
              success: next ? "The public feed is on." : "The public feed is off; its URL answers 404.",
              onError: () => setOn(!next),
            });
          }}
        />
        <label htmlFor={`${id}-public`} className="text-sm font-medium">
          Public feed
        </label>
      </div>
      <p id={`${id}-public-hint`} className="text-sm text-muted">
        Offers public images that are published to platforms to anyone, with no token. Private and shared images are
        never in it.
      </p>
      <ActionMessage outcome={action.outcome} />
      {on && enabled ? <FeedUrls endpoints={endpoints} heading="The public feed’s URL" /> : null}
    </div>
  );
}
