"use client";

import { useState } from "react";
import { describedBy, Field, Input, Select, Textarea } from "@/components/ui/input";
import { MAX_UPLOAD_FILE_BYTES } from "@/lib/recipes/steps";
import type { StepForm } from "./step-form";

const timezones = ["UTC", ...Intl.supportedValuesOf("timeZone")];

/** The fields of one step; `prefix` keeps ids unique per step. */
export function StepFields({
  prefix,
  form,
  errors,
  onChange,
  projectId,
}: {
  prefix: string;
  form: StepForm;
  errors: Record<string, string>;
  onChange: (field: string, value: string) => void;
  projectId: string | null;
}) {
  const id = (field: string) => `${prefix}-${field}`;
  const text = (
    field: string,
    label: string,
    options: { placeholder?: string; hint?: string; className?: string; list?: string } = {},
  ) => (
    <Field id={id(field)} label={label} error={errors[field]} hint={options.hint} className={options.className}>
      <Input
        {...describedBy(id(field), { error: errors[field], hint: options.hint })}
        value={form[field] ?? ""}
        placeholder={options.placeholder}
        list={options.list}
        spellCheck={false}
        onChange={(event) => onChange(field, event.target.value)}
      />
    </Field>
  );
  const area = (field: string, label: string, rows = 4, hint?: string) => (
    <Field id={id(field)} label={label} error={errors[field]} hint={hint} className="sm:col-span-2">
      <Textarea
        {...describedBy(id(field), { error: errors[field], hint })}
        rows={rows}
        value={form[field] ?? ""}
        spellCheck={false}
        className="font-mono text-xs"
        onChange={(event) => onChange(field, event.target.value)}
      />
    </Field>
  );
  switch (form.type) {
    case "install":
    case "uninstall":
      return (
        <div className="grid gap-3">
          {text("packages", "Packages", { placeholder: "curl nginx", hint: "Separate names with spaces or commas." })}
        </div>
      );
    case "run":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          {area("script", "Script (runs as root inside the guest with /bin/sh)", 5)}
        </div>
      );
    case "firstboot":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          {area("script", "Script (runs once when the guest first boots)", 5)}
        </div>
      );
    case "write":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          {text("path", "Path in the guest", { placeholder: "/etc/motd" })}
          {text("mode", "Mode (optional)", { placeholder: "0644" })}
          {area("content", "Content", 4)}
        </div>
      );
    case "upload":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          <AttachFile prefix={prefix} form={form} error={errors.blobSha256} onChange={onChange} projectId={projectId} />
          {text("path", "Path in the guest", {
            placeholder: "/opt/app/config.json",
            hint: "Its folder must exist: add a Create a directory step first if needed.",
          })}
          {text("mode", "Mode (optional)", { placeholder: "0644" })}
        </div>
      );
    case "mkdir":
    case "delete":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          {text("path", "Path in the guest", { placeholder: form.type === "mkdir" ? "/opt/app" : "/var/cache/old" })}
        </div>
      );
    case "ssh-key":
      return (
        <div className="grid gap-3 sm:grid-cols-[10rem_1fr]">
          {text("user", "User", { placeholder: "root" })}
          {text("key", "Public key", { placeholder: "ssh-ed25519 AAAA… you@host" })}
        </div>
      );
    case "hostname":
      return (
        <div className="grid gap-3 sm:grid-cols-2">{text("hostname", "Host name", { placeholder: "web-01" })}</div>
      );
    case "timezone":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          {text("timezone", "Time zone", { list: `${prefix}-zones`, placeholder: "Europe/Berlin" })}
          <datalist id={`${prefix}-zones`}>
            {timezones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </div>
      );
    case "root-password":
      return (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field
            id={id("policy")}
            label="Root password"
            error={errors.policy}
            hint="Hangar never stores a plaintext password."
          >
            <Select
              {...describedBy(id("policy"), {
                error: errors.policy,
                hint: "Hangar never stores a plaintext password.",
              })}
              value={form.policy}
              onChange={(event) => onChange("policy", event.target.value)}
            >
              <option value="locked">Locked (no password login)</option>
              <option value="disabled">Disabled (no password at all)</option>
              <option value="random">Random (set in the image, never shown or stored)</option>
            </Select>
          </Field>
        </div>
      );
    default:
      return <p className="text-xs text-muted">This step has no settings.</p>;
  }
}

function AttachFile({
  prefix,
  form,
  error,
  onChange,
  projectId,
}: {
  prefix: string;
  form: StepForm;
  error?: string;
  onChange: (field: string, value: string) => void;
  projectId: string | null;
}) {
  const [state, setState] = useState<{ busy: boolean; message: string | null }>({ busy: false, message: null });
  const id = `${prefix}-file`;
  const shown = state.message ?? error;
  const attach = async (file: File) => {
    if (!projectId) return setState({ busy: false, message: "Choose the recipe's project first." });
    if (file.size > MAX_UPLOAD_FILE_BYTES)
      return setState({ busy: false, message: `A recipe file is at most ${MAX_UPLOAD_FILE_BYTES / 1024 ** 2} MiB.` });
    setState({ busy: true, message: null });
    const response = await fetch(`/api/recipe-files?${new URLSearchParams({ projectId, filename: file.name })}`, {
      method: "POST",
      body: file,
    }).catch(() => null);
    const body = (await response?.json().catch(() => null)) as { sha256?: string; error?: { message?: string } } | null;
    if (!response?.ok || !body?.sha256)
      return setState({
        busy: false,
        message: body?.error?.message ?? "The file could not be attached; check your connection and try again.",
      });
    onChange("blobSha256", body.sha256);
    onChange("filename", file.name);
    setState({ busy: false, message: null });
  };
  return (
    <Field
      id={id}
      label="File"
      error={shown}
      hint={
        form.blobSha256
          ? `Attached: ${form.filename || "file"} (sha256 ${form.blobSha256.slice(0, 12)}…)`
          : "Up to 16 MiB."
      }
      className="sm:col-span-2"
    >
      <input
        {...describedBy(id, { error: shown, hint: "file" })}
        type="file"
        disabled={state.busy}
        className="block text-sm file:mr-3 file:rounded-md file:border file:border-line-strong file:bg-surface file:px-3 file:py-1 file:text-sm"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) void attach(file);
        }}
      />
    </Field>
  );
}
