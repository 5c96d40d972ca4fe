"use client";

import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { ActionMessage } from "@/components/ui/action-message";
import { useServerAction } from "@/components/ui/use-server-action";
import { projectRoles, type ProjectRole } from "@/db/enums";
import {
  cancelInvitationServerAction,
  createProjectServerAction,
  removeMemberServerAction,
  setMemberServerAction,
  setQuotaServerAction,
} from "@/lib/actions/projects";
import { createProjectSchema } from "@/lib/validations/projects";

export function CreateProjectForm() {
  const router = useRouter();
  const ids = { name: useId(), slug: useId() };
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const { pending, run, check, outcome, fieldError } = useServerAction();
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        if (!check(createProjectSchema, { name, slug })) return;
        run(() => createProjectServerAction({ name, slug }), {
          success: `Created ${name}.`,
          onSuccess: () => router.push(`/projects/${slug}`),
        });
      }}
    >
      <Field id={ids.name} label="Project name" error={fieldError("name")}>
        <Input
          {...describedBy(ids.name, { error: fieldError("name") })}
          value={name}
          required
          onChange={(event) => {
            setName(event.target.value);
            setSlug(
              event.target.value
                .toLowerCase()
                .replace(/[^a-z0-9]+/g, "-")
                .replace(/^-|-$/g, ""),
            );
          }}
        />
      </Field>
      <Field id={ids.slug} label="Short name" error={fieldError("slug")}>
        <Input
          {...describedBy(ids.slug, { error: fieldError("slug") })}
          value={slug}
          required
          onChange={(event) => setSlug(event.target.value)}
        />
      </Field>
      <Button type="submit" variant="primary" disabled={pending}>
        {pending ? "Creating…" : "Create project"}
      </Button>
      <div className="basis-full">
        <ActionMessage outcome={outcome} />
      </div>
    </form>
  );
}

export function AddMemberForm({
  projectId,
  people = [],
}: {
  projectId: string;
  people?: { email: string; name: string | null }[];
}) {
  const ids = { email: useId(), role: useId(), people: useId() };
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<ProjectRole>("member");
  const { pending, run, outcome, fieldError } = useServerAction();
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        run(() => setMemberServerAction({ projectId, email, role }), {
          success: (data) =>
            data.invited
              ? `Invited ${email} as ${role}: they join when they first sign in to Hangar.`
              : `${email} is a ${role} now.`,
          onSuccess: () => setEmail(""),
        });
      }}
    >
      <Field
        id={ids.email}
        label="Add a person by email"
        hint="Someone without an account yet is invited and joins at first sign-in."
        error={fieldError("email")}
      >
        <Input
          {...describedBy(ids.email, { error: fieldError("email") })}
          type="email"
          list={ids.people}
          autoComplete="off"
          value={email}
          required
          onChange={(event) => setEmail(event.target.value)}
          className="w-72"
        />
      </Field>
      <datalist id={ids.people}>
        {people.map((person) => (
          <option key={person.email} value={person.email}>
            {person.name ?? ""}
          </option>
        ))}
      </datalist>
      <Field id={ids.role} label="Role">
        <Select
          {...describedBy(ids.role, {})}
          value={role}
          onChange={(event) => setRole(event.target.value as ProjectRole)}
        >
          {projectRoles.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </Select>
      </Field>
      <Button type="submit" disabled={pending}>
        {pending ? "Adding…" : "Add"}
      </Button>
      <div className="basis-full">
        <ActionMessage outcome={outcome} />
      </div>
    </form>
  );
}

export function CancelInvitationButton({ projectId, email }: { projectId: string; email: string }) {
  const { pending, run, outcome } = useServerAction();
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button
        size="sm"
        variant="danger"
        disabled={pending}
        aria-label={`Cancel the invitation of ${email}`}
        onClick={() =>
          run(() => cancelInvitationServerAction({ projectId, email }), {
            success: `The invitation of ${email} was cancelled.`,
          })
        }
      >
        Cancel invitation
      </Button>
      <ActionMessage outcome={outcome} />
    </div>
  );
}

export function MemberControls({
  projectId,
  email,
  userId,
  role,
}: {
  projectId: string;
  email: string;
  userId: string;
  role: ProjectRole;
}) {
  const id = useId();
  const { pending, run, outcome } = useServerAction();
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label htmlFor={id} className="sr-only">
        Role of {email}
      </label>
      <Select
        id={id}
        value={role}
        disabled={pending}
        className="w-28"
        onChange={(event) =>
          run(() => setMemberServerAction({ projectId, email, role: event.target.value }), {
            success: `${email} is a ${event.target.value} now.`,
          })
        }
      >
        {projectRoles.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </Select>
      <Button
        size="sm"
        variant="danger"
        disabled={pending}
        aria-label={`Remove ${email}`}
        onClick={() => run(() => removeMemberServerAction({ projectId, userId }), { success: `${email} was removed.` })}
      >
        Remove
      </Button>
      <ActionMessage outcome={outcome} />
    </div>
  );
}

export function QuotaForm({ projectId, quotaGiB }: { projectId: string; quotaGiB: number }) {
  const id = useId();
  const [value, setValue] = useState(String(quotaGiB));
  const { pending, run, outcome, fieldError } = useServerAction();
  return (
    <form
      className="flex flex-wrap items-end gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        run(() => setQuotaServerAction({ projectId, quotaGiB: value }), { success: `Quota set to ${value} GiB.` });
      }}
    >
      <Field id={id} label="Storage quota (GiB)" error={fieldError("quotaGiB")}>
        <Input
          {...describedBy(id, { error: fieldError("quotaGiB") })}
          type="number"
          min={0}
          step="any"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          className="w-32"
        />
      </Field>
      <Button type="submit" disabled={pending}>
        Set quota
      </Button>
      <div className="basis-full">
        <ActionMessage outcome={outcome} />
      </div>
    </form>
  );
}
