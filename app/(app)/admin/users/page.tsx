import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { InviteUserForm } from "@/components/accounts/invite-user-form";
import { UserControls } from "@/components/accounts/user-controls";
import { LockedAccounts } from "@/components/admin/locked-accounts";
import { PageHeader } from "@/components/shell/page-header";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { formatDateTime } from "@/components/ui/format";
import { Input, Label } from "@/components/ui/input";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { listUsers } from "@/db/queries/accounts";
import { requireViewer } from "@/lib/auth/session";
import { env } from "@/lib/env";
import { isAdmin } from "@/db/queries/access";

export const metadata: Metadata = { title: "Users" };

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function UsersPage({ searchParams }: { searchParams: Search }) {
  const viewer = await requireViewer("/admin/users");
  if (!isAdmin(viewer)) forbidden();
  const raw = (await searchParams).q;
  const q = typeof raw === "string" ? raw.trim().slice(0, 200) : "";
  const people = await listUsers({ actor: { kind: "viewer", viewer }, search: q || undefined });
  return (
    <div className="space-y-8">
      <PageHeader
        title="Users"
        description="Everyone who can sign in to Hangar: local accounts and single sign-on. Every change here is recorded in the audit log."
      />

      <section aria-labelledby="invite-heading" className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <h2 id="invite-heading" className="text-base font-semibold">
          Invite a person
        </h2>
        <InviteUserForm linkHours={env().HANGAR_PASSWORD_LINK_HOURS} />
      </section>

      <section aria-labelledby="accounts-heading" className="space-y-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="accounts-heading" className="text-base font-semibold">
            Accounts
          </h2>
          <form method="get" role="search" className="flex items-end gap-2">
            <div className="space-y-1">
              <Label htmlFor="users-q">Search by email or name</Label>
              <Input id="users-q" name="q" type="search" defaultValue={q} className="w-64" />
            </div>
            <Button type="submit">Search</Button>
            {q ? (
              <Link href="/admin/users" className="self-center text-sm">
                Clear
              </Link>
            ) : null}
          </form>
        </div>
        {people.length === 0 ? (
          <p className="text-muted">{q ? `No account matches “${q}”.` : "No accounts yet."}</p>
        ) : (
          <Table label="Accounts">
            <thead>
              <tr>
                <Th>Person</Th>
                <Th>Signs in with</Th>
                <Th>Role</Th>
                <Th>Projects</Th>
                <Th>Last sign-in</Th>
                <Th>Status</Th>
                <Th>
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {people.map((person) => (
                <Tr key={person.id}>
                  <Td>
                    <div className="font-medium">{person.email}</div>
                    {person.name ? <div className="text-xs text-muted">{person.name}</div> : null}
                  </Td>
                  <Td className="whitespace-nowrap text-xs">
                    {[person.local ? "password" : null, person.sso ? "single sign-on" : null]
                      .filter(Boolean)
                      .join(", ") || "—"}
                  </Td>
                  <Td>
                    <Badge tone={person.role === "admin" ? "accent" : "neutral"}>{person.role}</Badge>
                  </Td>
                  <Td className="text-xs">
                    {person.projects.length === 0 ? (
                      <span className="text-muted">none</span>
                    ) : (
                      <ul>
                        {person.projects.map((project) => (
                          <li key={project.slug}>
                            <Link href={`/projects/${project.slug}`}>{project.name}</Link>{" "}
                            <span className="text-muted">({project.role})</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </Td>
                  <Td className="whitespace-nowrap text-xs">
                    {person.lastSignInAt ? (
                      formatDateTime(person.lastSignInAt)
                    ) : (
                      <span className="text-muted">never</span>
                    )}
                  </Td>
                  <Td className="text-xs">
                    {person.disabledAt ? (
                      <Badge tone="danger">disabled</Badge>
                    ) : person.pendingLink ? (
                      <Badge tone="warning" title={`Link valid until ${formatDateTime(person.pendingLink.expiresAt)}`}>
                        {person.pendingLink.purpose === "invite" ? "invited" : "password reset"}
                      </Badge>
                    ) : (
                      <Badge tone="success">active</Badge>
                    )}
                  </Td>
                  <Td>
                    <UserControls
                      userId={person.id}
                      email={person.email}
                      role={person.role}
                      disabled={Boolean(person.disabledAt)}
                      canReset={person.local || !person.sso}
                    />
                  </Td>
                </Tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>

      <LockedAccounts />
    </div>
  );
}
