"use client";

import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Badge } from "@/components/ui/badge";
import { CopyStatus, useCopyText } from "@/components/ui/copy-text";
import { Button } from "@/components/ui/button";
import { cx } from "@/components/ui/cx";
import { formatDateTime } from "@/components/ui/format";
import { Field, Input, Select, Textarea } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { useServerAction } from "@/components/ui/use-server-action";
import type { TokenScope } from "@/db/enums";
import type { ApiTokenListing } from "@/lib/actions/token-actions";
import { createApiTokenServerAction, revokeApiTokenServerAction } from "@/lib/actions/tokens";
import { createApiTokenSchema } from "@/lib/validations/tokens";

const DATE_CHOICE = "date";

export interface ScopeChoice {
  scope: TokenScope;
  label: string;
}

/**
 * The create form: name, scope (the choices the page offers this person) and expiry. The secret the
 * action returns is kept only in this component's state, shown once, and gone on reload.
 */
export function CreateTokenForm({
  project,
  scopes,
  expiryDays,
  defaultDays,
  allowNoExpiry,
  earliestDate,
}: {
  /** A project's slug and name for a project token; null for a personal one. */
  project: { slug: string; name: string } | null;
  scopes: ScopeChoice[];
  expiryDays: number[];
  defaultDays: number;
  allowNoExpiry: boolean;
  /** The first day a date may name (YYYY-MM-DD): tomorrow, as the server saw it. */
  earliestDate: string;
}) {
  const action = useServerAction();
  const id = useId();
  const [name, setName] = useState("");
  const [scope, setScope] = useState<TokenScope>(scopes[0]!.scope);
  const [expiry, setExpiry] = useState(String(defaultDays));
  const [date, setDate] = useState("");
  const [created, setCreated] = useState<{ secret: string; name: string } | null>(null);

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const input = { name, scope, project: project?.slug ?? null, expires: expiry === DATE_CHOICE ? date : expiry };
    if (!action.check(createApiTokenSchema, input)) return;
    setCreated(null);
    action.run(() => createApiTokenServerAction(input), {
      success: (data) => `Token “${data.token.name}” created.`,
      onSuccess: (data) => {
        setCreated({ secret: data.secret, name: data.token.name });
        setName("");
      },
    });
  }

  const heading = project ? `New token for ${project.name}` : "New access token";
  return (
    <div className="max-w-2xl space-y-4">
      <form onSubmit={submit} className="space-y-3 rounded-md border border-line p-4" aria-label={heading}>
        <h2 className="text-base font-semibold">{heading}</h2>
        <Field
          id={`${id}-name`}
          label="Name"
          error={action.fieldError("name")}
          hint="Say where it is used, so you know what breaks when you revoke it."
        >
          <Input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="CI deploy"
            maxLength={100}
            autoComplete="off"
            aria-invalid={action.fieldError("name") ? true : undefined}
            aria-describedby={action.fieldError("name") ? `${id}-name-error` : `${id}-name-hint`}
            required
          />
        </Field>
        <fieldset className="space-y-1" aria-describedby={action.fieldError("scope") ? `${id}-scope-error` : undefined}>
          <legend className="text-xs font-medium text-muted">Scope</legend>
          {scopes.map((choice) => (
            <label key={choice.scope} className="flex items-center gap-2 text-sm">
              <input
                type="radio"
                name={`${id}-scope`}
                value={choice.scope}
                checked={scope === choice.scope}
                onChange={() => setScope(choice.scope)}
              />
              {choice.label}
            </label>
          ))}
          {action.fieldError("scope") ? (
            <p id={`${id}-scope-error`} className="text-xs text-danger">
              {action.fieldError("scope")}
            </p>
          ) : null}
        </fieldset>
        <div className="flex flex-wrap items-start gap-3">
          <Field id={`${id}-expiry`} label="Expires" className="w-48">
            <Select id={`${id}-expiry`} value={expiry} onChange={(e) => setExpiry(e.target.value)}>
              {expiryDays.map((days) => (
                <option key={days} value={String(days)}>
                  In {days} days
                </option>
              ))}
              <option value={DATE_CHOICE}>On a date…</option>
              {allowNoExpiry ? <option value="never">Never</option> : null}
            </Select>
          </Field>
          {expiry === DATE_CHOICE ? (
            <Field id={`${id}-date`} label="Expiry date" error={action.fieldError("expires")} className="w-48">
              <Input
                id={`${id}-date`}
                type="date"
                min={earliestDate}
                value={date}
                onChange={(e) => setDate(e.target.value)}
                aria-invalid={action.fieldError("expires") ? true : undefined}
                aria-describedby={action.fieldError("expires") ? `${id}-date-error` : undefined}
                required
              />
            </Field>
          ) : null}
        </div>
        {expiry !== DATE_CHOICE && action.fieldError("expires") ? (
          <p className="text-xs text-danger">{action.fieldError("expires")}</p>
        ) : null}
        <Button type="submit" variant="primary" disabled={action.pending}>
          {action.pending ? "Creating…" : "Create token"}
        </Button>
        <ActionMessage outcome={action.outcome} fieldsShown={["name", "scope", "expires"]} />
      </form>
      {created ? <NewTokenSecret secret={created.secret} name={created.name} /> : null}
    </div>
  );
}

function NewTokenSecret({ secret, name }: { secret: string; name: string }) {
  const id = useId();
  const { copied, copy: copyText } = useCopyText();
  const origin = window.location.origin;
  const copy = () => copyText(secret, `${id}-secret`);

  return (
    <section
      aria-labelledby={`${id}-heading`}
      className="space-y-3 rounded-md border border-accent bg-accent-soft/40 p-4 text-sm"
    >
      <h2 id={`${id}-heading`} className="text-base font-semibold">
        Your new token “{name}”
      </h2>
      <p className="font-medium">Copy it now: you won&rsquo;t see it again. Hangar keeps only a hash of it.</p>
      <div className="flex gap-2">
        {/* A textarea, not an input: Chromium clips a one-line input's underscores (hgr_) at the baseline. */}
        <Textarea
          id={`${id}-secret`}
          aria-label="New token secret"
          readOnly
          rows={1}
          value={secret}
          onFocus={(e) => e.currentTarget.select()}
          className="resize-none break-all font-mono"
        />
        <Button onClick={copy}>Copy</Button>
      </div>
      <CopyStatus copied={copied} />
      <div className="space-y-1">
        <p>Use it as a bearer token:</p>
        <pre className="whitespace-pre-wrap break-words rounded-md bg-raised p-2 text-xs">
          {`curl -H "Authorization: Bearer ${secret}" ${origin}/api/v1/images`}
        </pre>
        <p>
          or with the CLI: <code>hangar login</code> and paste it, or set <code>HANGAR_URL={origin}</code> and{" "}
          <code>HANGAR_TOKEN</code> in CI.
        </p>
      </div>
    </section>
  );
}

const statusTone = { active: "success", expired: "warning", revoked: "neutral" } as const;

/** Tokens as a table; `showOwner` adds whose token it is and its project (project and admin lists). */
export function TokenList({
  tokens,
  label,
  showOwner = false,
  showProject = false,
}: {
  tokens: ApiTokenListing[];
  label: string;
  showOwner?: boolean;
  showProject?: boolean;
}) {
  const action = useServerAction();
  if (tokens.length === 0) return <p className="text-sm text-muted">No tokens yet.</p>;
  return (
    <div className="space-y-2">
      <ActionMessage outcome={action.outcome} />
      <Table label={label}>
        <thead>
          <tr>
            <Th>Name</Th>
            {showOwner ? <Th>Owner</Th> : null}
            {showProject ? <Th>Project</Th> : null}
            <Th>Scope</Th>
            <Th>Token</Th>
            <Th>Created</Th>
            <Th>Expires</Th>
            <Th>Last used</Th>
            <Th>Status</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => (
            <Tr key={token.id} className={cx(token.status === "revoked" && "text-muted")}>
              <Td className="font-medium">{token.name}</Td>
              {showOwner ? <Td>{token.userEmail}</Td> : null}
              {showProject ? <Td>{token.projectSlug ? `${token.projectSlug} (${token.projectRole})` : "—"}</Td> : null}
              <Td>{token.projectRole && !showProject ? `${token.scope} (as ${token.projectRole})` : token.scope}</Td>
              <Td>
                <code>{token.prefix}…</code>
              </Td>
              <Td>
                <RelativeTime date={token.createdAt} />
              </Td>
              <Td>
                {token.expiresAt ? (
                  <time dateTime={token.expiresAt.toISOString()}>{formatDateTime(token.expiresAt)}</time>
                ) : (
                  "Never"
                )}
              </Td>
              <Td>
                {token.lastUsedAt ? (
                  <>
                    <RelativeTime date={token.lastUsedAt} />
                    {token.lastUsedAddress ? (
                      <span className="block text-xs text-muted">from {token.lastUsedAddress}</span>
                    ) : null}
                  </>
                ) : (
                  "Never"
                )}
              </Td>
              <Td>
                <Badge tone={statusTone[token.status]}>{token.status}</Badge>
                {token.revokedAt ? (
                  <span className="block text-xs">
                    <RelativeTime date={token.revokedAt} />
                  </span>
                ) : null}
              </Td>
              <Td>
                {token.canRevoke && token.status !== "revoked" ? (
                  <Button
                    size="sm"
                    variant="danger"
                    disabled={action.pending}
                    aria-label={`Revoke ${token.name} (${token.prefix}…)`}
                    onClick={() => {
                      if (
                        window.confirm(
                          `Revoke “${token.name}” (${token.prefix}…)? Anything using it stops working at once.`,
                        )
                      )
                        action.run(() => revokeApiTokenServerAction({ id: token.id }), {
                          success: `Token “${token.name}” revoked.`,
                        });
                    }}
                  >
                    Revoke
                  </Button>
                ) : null}
              </Td>
            </Tr>
          ))}
        </tbody>
      </Table>
    </div>
  );
}
