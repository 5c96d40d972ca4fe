import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { Button } from "@/components/ui/button";
import { formatDateTime } from "@/components/ui/format";
import { Input, Label } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { listAuditEvents, type AuditFilters } from "@/db/queries/audit";
import { requireViewer } from "@/lib/auth/session";
import { isAdmin } from "@/db/queries/access";

export const metadata: Metadata = { title: "Audit log" };

type Search = Promise<Record<string, string | string[] | undefined>>;
const PAGE = 100;

function one(value: string | string[] | undefined): string {
  return typeof value === "string" ? value.trim().slice(0, 200) : "";
}

function date(value: string): Date | undefined {
  const parsed = value ? new Date(value) : undefined;
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
}

function summary(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Changes made with `npm run admin` have no user behind them; their event says so. */
function operatorOf(after: unknown): string | null {
  const by = (after as { by?: unknown } | null)?.by;
  return typeof by === "string" ? by : null;
}

export default async function AuditPage({ searchParams }: { searchParams: Search }) {
  const viewer = await requireViewer("/admin/audit");
  if (!isAdmin(viewer)) forbidden();
  const raw = await searchParams;
  const params = {
    actor: one(raw.actor),
    action: one(raw.action),
    objectType: one(raw.objectType),
    objectId: one(raw.objectId),
    from: one(raw.from),
    to: one(raw.to),
  };
  const before = Number(one(raw.before)) || undefined;
  const filters: AuditFilters = {
    actor: params.actor || undefined,
    action: params.action || undefined,
    objectType: params.objectType || undefined,
    objectId: params.objectId || undefined,
    from: date(params.from),
    to: date(params.to),
    before,
  };
  const events = await listAuditEvents(filters, PAGE + 1);
  const page = events.slice(0, PAGE);
  const next =
    events.length > PAGE
      ? new URLSearchParams({
          ...Object.fromEntries(Object.entries(params).filter(([, value]) => value)),
          before: String(page.at(-1)!.id),
        })
      : null;
  const fields: [keyof typeof params, string, string][] = [
    ["actor", "Actor email contains", "alice@"],
    ["action", "Action starts with", "release."],
    ["objectType", "Object type", "version"],
    ["objectId", "Object id", ""],
    ["from", "From", ""],
    ["to", "Until", ""],
  ];
  return (
    <div className="space-y-5">
      <PageHeader
        title="Audit log"
        description="Every state change with who did it, to what, and the before and after. Nothing here can be edited from the app."
      />
      <form
        method="get"
        className="grid grid-cols-2 items-end gap-3 rounded-lg border border-line bg-surface p-3 sm:grid-cols-4 lg:grid-cols-7"
      >
        {fields.map(([name, label, placeholder]) => (
          <div key={name} className="space-y-1">
            <Label htmlFor={`audit-${name}`}>{label}</Label>
            <Input
              id={`audit-${name}`}
              name={name}
              defaultValue={params[name]}
              placeholder={placeholder}
              type={name === "from" || name === "to" ? "datetime-local" : "text"}
            />
          </div>
        ))}
        <div className="flex gap-2">
          <Button type="submit" variant="primary">
            Filter
          </Button>
          <Link href="/admin/audit" className="self-center text-sm">
            Clear
          </Link>
        </div>
      </form>
      {page.length === 0 ? (
        <p className="text-muted">No events match.</p>
      ) : (
        <Table label="Audit events">
          <thead>
            <tr>
              <Th>When</Th>
              <Th>Actor</Th>
              <Th>Action</Th>
              <Th>Object</Th>
              <Th>Before</Th>
              <Th>After</Th>
            </tr>
          </thead>
          <tbody>
            {page.map((event) => (
              <Tr key={event.id}>
                <Td className="whitespace-nowrap">{formatDateTime(event.at)}</Td>
                <Td>{event.actor ?? operatorOf(event.after) ?? "system"}</Td>
                <Td>
                  <code className="text-xs">{event.action}</code>
                </Td>
                <Td className="text-xs">
                  {event.objectType}{" "}
                  <code className="break-all" title={event.objectId}>
                    {event.objectId.slice(0, 8)}
                  </code>
                </Td>
                <Td className="max-w-xs break-all font-mono text-xs text-muted">{summary(event.before)}</Td>
                <Td className="max-w-xs break-all font-mono text-xs text-muted">{summary(event.after)}</Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      )}
      {next ? (
        <Link href={`/admin/audit?${next}`} className="text-sm">
          Older events →
        </Link>
      ) : null}
    </div>
  );
}
