"use client";

import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { ActionMessage } from "@/components/ui/action-message";
import { useServerAction } from "@/components/ui/use-server-action";
import { inviteUserServerAction } from "@/lib/actions/accounts";
import { inviteUserSchema } from "@/lib/validations/accounts";
import { OneTimeLink } from "./one-time-link";

export function InviteUserForm({ linkHours }: { linkHours: number }) {
  const ids = { email: useId(), name: useId(), role: useId() };
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<"member" | "admin">("member");
  const [issued, setIssued] = useState<{ email: string; link: string; expiresAt: string } | null>(null);
  const { pending, run, check, outcome, fieldError } = useServerAction();
  return (
    <div className="space-y-3">
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          setIssued(null);
          const input = { email, name: name || undefined, role };
          if (!check(inviteUserSchema, input)) return;
          run(() => inviteUserServerAction(input), {
            success: `Created the account ${email}.`,
            onSuccess: (data) => {
              if (data.link && data.expiresAt)
                setIssued({ email: data.email, link: data.link, expiresAt: data.expiresAt });
              setEmail("");
              setName("");
              setRole("member");
            },
          });
        }}
      >
        <Field id={ids.email} label="Email" error={fieldError("email")}>
          <Input
            {...describedBy(ids.email, { error: fieldError("email") })}
            type="email"
            autoComplete="off"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            className="w-72"
          />
        </Field>
        <Field id={ids.name} label="Name (optional)" error={fieldError("name")}>
          <Input
            {...describedBy(ids.name, { error: fieldError("name") })}
            autoComplete="off"
            value={name}
            onChange={(event) => setName(event.target.value)}
            className="w-56"
          />
        </Field>
        <Field id={ids.role} label="Role">
          <Select
            {...describedBy(ids.role, {})}
            value={role}
            onChange={(event) => setRole(event.target.value as "member" | "admin")}
          >
            <option value="member">member</option>
            <option value="admin">admin</option>
          </Select>
        </Field>
        <Button type="submit" variant="primary" disabled={pending}>
          {pending ? "Inviting…" : "Invite"}
        </Button>
        <p className="basis-full text-xs text-muted">
          Creates a local account and a one-time link, valid for {linkHours} hours, with which they choose their
          password.
        </p>
        <div className="basis-full">
          <ActionMessage outcome={outcome} />
        </div>
      </form>
      {issued ? <OneTimeLink {...issued} /> : null}
    </div>
  );
}
