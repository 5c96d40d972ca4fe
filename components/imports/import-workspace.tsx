"use client";

import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { architectures } from "@/db/enums";
import type { WritableImage } from "@/db/queries/images";
import { createImageForImportServerAction } from "@/lib/actions/imports";
import { createImageForImportSchema } from "@/lib/validations/imports";
import { UploadPanel } from "./upload-panel";
import { UrlImportPanel } from "./url-import-panel";

function suggestVersion(): string {
  const now = new Date();
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${now.getUTCFullYear()}.${pad(now.getUTCMonth() + 1)}.${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}`;
}

export function NewImageForm({
  projects,
  onCreated,
}: {
  projects: { id: string; name: string }[];
  onCreated: (slug: string) => void;
}) {
  const ids = { project: useId(), slug: useId(), name: useId(), os: useId(), osVersion: useId(), arch: useId() };
  const { pending, run, check, outcome, fieldError } = useServerAction();
  const submit = (form: FormData) => {
    const input = Object.fromEntries(form);
    if (!check(createImageForImportSchema, input)) return;
    run(() => createImageForImportServerAction(input), {
      refresh: false,
      onSuccess: (data) => onCreated(data.slug),
    });
  };
  if (projects.length === 0) {
    return (
      <p className="text-sm text-muted">
        You are not a member of any project yet, so you can't create images. Ask a project owner to add you.
      </p>
    );
  }
  return (
    <form action={submit} className="grid gap-3 sm:grid-cols-3">
      <Field id={ids.project} label="Project" error={fieldError("projectId")}>
        <Select {...describedBy(ids.project, { error: fieldError("projectId") })} name="projectId">
          {projects.map((project) => (
            <option key={project.id} value={project.id}>
              {project.name}
            </option>
          ))}
        </Select>
      </Field>
      <Field id={ids.name} label="Name" error={fieldError("name")}>
        <Input
          {...describedBy(ids.name, { error: fieldError("name") })}
          name="name"
          required
          placeholder="Debian 12 base"
        />
      </Field>
      <Field id={ids.slug} label="Short name" error={fieldError("slug")} hint="Used in links, like debian-12-base.">
        <Input
          {...describedBy(ids.slug, { error: fieldError("slug"), hint: "Used in links, like debian-12-base." })}
          name="slug"
          required
          pattern="[a-z0-9-]+"
        />
      </Field>
      <Field id={ids.os} label="Operating system" error={fieldError("os")}>
        <Input {...describedBy(ids.os, { error: fieldError("os") })} name="os" required placeholder="Debian" />
      </Field>
      <Field id={ids.osVersion} label="OS version" error={fieldError("osVersion")}>
        <Input {...describedBy(ids.osVersion, { error: fieldError("osVersion") })} name="osVersion" placeholder="12" />
      </Field>
      <Field id={ids.arch} label="Architecture" error={fieldError("arch")}>
        <Select {...describedBy(ids.arch, { error: fieldError("arch") })} name="arch" defaultValue="x86_64">
          {architectures.map((arch) => (
            <option key={arch} value={arch}>
              {arch}
            </option>
          ))}
        </Select>
      </Field>
      <div className="flex items-center gap-3 sm:col-span-3">
        <Button type="submit" variant="primary" disabled={pending}>
          {pending ? "Creating…" : "Create image"}
        </Button>
        <ActionMessage outcome={outcome} fieldsShown={["projectId", "name", "slug", "os", "osVersion", "arch"]} />
      </div>
    </form>
  );
}

export function ImportWorkspace({
  images,
  projects,
  selectedSlug,
}: {
  images: WritableImage[];
  projects: { id: string; name: string }[];
  selectedSlug: string | null;
}) {
  const router = useRouter();
  const pickerId = useId();
  const [mode, setMode] = useState<"upload" | "url">("upload");
  const [creating, setCreating] = useState(images.length === 0);
  const selected = images.find((image) => image.slug === selectedSlug) ?? null;
  const [suggestedVersion] = useState(suggestVersion);

  const choose = (slug: string) => {
    const params = new URLSearchParams({ image: slug });
    router.replace(`/import?${params.toString()}`);
  };

  return (
    <div className="space-y-6">
      <section
        aria-labelledby={`${pickerId}-heading`}
        className="space-y-3 rounded-lg border border-line bg-surface p-4"
      >
        <h2 id={`${pickerId}-heading`} className="text-sm font-semibold">
          1. Which image is this a version of?
        </h2>
        {images.length > 0 ? (
          <Field id={pickerId} label="Image">
            <Select
              {...describedBy(pickerId, {})}
              value={selected?.slug ?? ""}
              onChange={(event) => choose(event.target.value)}
            >
              <option value="" disabled>
                Choose an image…
              </option>
              {images.map((image) => (
                <option key={image.id} value={image.slug}>
                  {image.name} ({image.projectName}){image.latestVersion ? ` · newest ${image.latestVersion}` : ""}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        {creating ? (
          <NewImageForm
            projects={projects}
            onCreated={(slug) => {
              setCreating(false);
              choose(slug);
              router.refresh();
            }}
          />
        ) : (
          <Button size="sm" onClick={() => setCreating(true)}>
            New image…
          </Button>
        )}
      </section>

      {selected ? (
        <section
          aria-labelledby={`${pickerId}-source`}
          className="space-y-4 rounded-lg border border-line bg-surface p-4"
        >
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h2 id={`${pickerId}-source`} className="text-sm font-semibold">
              2. Add a version to {selected.name}
            </h2>
            <div role="group" aria-label="Import source" className="inline-flex rounded-md border border-line-strong">
              <Button
                size="sm"
                variant={mode === "upload" ? "primary" : "ghost"}
                aria-pressed={mode === "upload"}
                onClick={() => setMode("upload")}
              >
                Upload a file
              </Button>
              <Button
                size="sm"
                variant={mode === "url" ? "primary" : "ghost"}
                aria-pressed={mode === "url"}
                onClick={() => setMode("url")}
              >
                Import from URL
              </Button>
            </div>
          </div>
          {mode === "upload" ? (
            <UploadPanel
              key={selected.id}
              imageId={selected.id}
              imageName={selected.name}
              imageSlug={selected.slug}
              suggestedVersion={suggestedVersion}
            />
          ) : (
            <UrlImportPanel
              key={selected.id}
              imageId={selected.id}
              imageName={selected.name}
              suggestedVersion={suggestedVersion}
            />
          )}
        </section>
      ) : null}
    </div>
  );
}
