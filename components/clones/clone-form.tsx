"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { CloneList, fetchClones } from "@/components/clones/clone-list";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { cloneKeys } from "@/components/ui/query-keys";
import { useServerAction } from "@/components/ui/use-server-action";
import type { CloneRow, CloneTargetProject } from "@/db/queries/clones";
import { cloneVersionServerAction } from "@/lib/actions/clones";
import { cloneVersionSchema } from "@/lib/validations/clones";

interface ResetOption {
  name: string;
  description: string;
}

/** Clone this version into a project: linked (instant) or full, optionally with an identity reset. */
export function CloneForm({
  versionId,
  sourceLabel,
  suggestedSlug,
  projects,
  resetOptions,
  defaultReset,
  sourceLinked = false,
}: {
  versionId: string;
  /** A linked source's file needs its base: a full clone of it is flattened by a job. */
  sourceLinked?: boolean;
  sourceLabel: string;
  suggestedSlug: string;
  projects: CloneTargetProject[];
  resetOptions: ResetOption[];
  defaultReset: string[];
}) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const ids = { project: useId(), target: useId(), image: useId(), slug: useId(), name: useId(), version: useId() };
  const [projectId, setProjectId] = useState(projects[0]?.id ?? "");
  const project = projects.find((candidate) => candidate.id === projectId);
  const [target, setTarget] = useState<"new" | "existing">("new");
  const [imageId, setImageId] = useState("");
  const [slug, setSlug] = useState(suggestedSlug);
  const [name, setName] = useState("");
  const [version, setVersion] = useState("1.0");
  const [mode, setMode] = useState<"linked" | "full">("linked");
  const [reset, setReset] = useState(false);
  const [operations, setOperations] = useState<string[]>(defaultReset);
  const { pending, run, check, outcome, fieldError } = useServerAction();
  const [queued, setQueued] = useState<CloneRow | null>(null);

  if (projects.length === 0) {
    return (
      <p className="text-sm text-muted">
        To clone, you need to be a member or owner of a project. Create one on the Projects page.
      </p>
    );
  }

  const submit = () => {
    const input = {
      versionId,
      projectId,
      imageId: target === "existing" ? imageId : "",
      newImageSlug: target === "new" ? slug : "",
      newImageName: target === "new" ? name : "",
      version,
      mode,
      resetIdentity: reset,
      resetOperations: reset ? operations : [],
    };
    // The server's own schema, so a slip is named at the field before anything is sent.
    if (!check(cloneVersionSchema, input)) return;
    run(() => cloneVersionServerAction(input), {
      refresh: false,
      onSuccess: async ({ cloneId }) => {
        const query = `ids=${cloneId}`;
        const [row] = await queryClient
          .fetchQuery({ queryKey: cloneKeys.list(query), queryFn: ({ signal }) => fetchClones(query, signal) })
          .catch(() => []);
        if (row?.status === "succeeded" && row.result) {
          router.push(`/images/${row.result.imageSlug}/versions/${encodeURIComponent(row.result.version)}`);
          return;
        }
        if (row) setQueued(row);
      },
    });
  };

  if (queued) {
    return (
      <div className="space-y-2">
        <p role="status" className="text-sm">
          The clone is queued; it runs as a job. You can leave this page: the project page shows its progress too.
        </p>
        <CloneList initial={[queued]} query={`ids=${queued.id}`} />
      </div>
    );
  }

  return (
    <form
      className="space-y-3"
      aria-label={`Clone ${sourceLabel}`}
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <Field id={ids.project} label="Into project" error={fieldError("projectId")}>
        <Select
          {...describedBy(ids.project, { error: fieldError("projectId") })}
          value={projectId}
          onChange={(event) => setProjectId(event.target.value)}
        >
          {projects.map((candidate) => (
            <option key={candidate.id} value={candidate.id}>
              {candidate.name}
            </option>
          ))}
        </Select>
      </Field>
      <fieldset className="space-y-1.5">
        <legend className="text-xs font-medium text-muted">As</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="radio" name={ids.target} checked={target === "new"} onChange={() => setTarget("new")} /> a new
          image
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input
            type="radio"
            name={ids.target}
            checked={target === "existing"}
            disabled={!project?.images.length}
            onChange={() => setTarget("existing")}
          />{" "}
          a new version of an image of the project
        </label>
      </fieldset>
      {target === "new" ? (
        <div className="grid gap-3">
          <Field id={ids.slug} label="Short name" error={fieldError("newImageSlug") ?? fieldError("slug")}>
            <Input
              {...describedBy(ids.slug, { error: fieldError("newImageSlug") ?? fieldError("slug") })}
              value={slug}
              required
              onChange={(event) => setSlug(event.target.value)}
            />
          </Field>
          <Field id={ids.name} label="Name (optional)">
            <Input
              {...describedBy(ids.name, {})}
              value={name}
              placeholder={slug}
              onChange={(event) => setName(event.target.value)}
            />
          </Field>
        </div>
      ) : (
        <Field id={ids.image} label="Image" error={fieldError("imageId")}>
          <Select
            {...describedBy(ids.image, { error: fieldError("imageId") })}
            value={imageId}
            required
            onChange={(event) => setImageId(event.target.value)}
          >
            <option value="">Choose…</option>
            {project?.images.map((image) => (
              <option key={image.id} value={image.id}>
                {image.name} ({image.slug})
              </option>
            ))}
          </Select>
        </Field>
      )}
      <Field id={ids.version} label="Version" error={fieldError("version")}>
        <Input
          {...describedBy(ids.version, { error: fieldError("version") })}
          value={version}
          required
          onChange={(event) => setVersion(event.target.value)}
          className="w-40"
        />
      </Field>
      <fieldset className="space-y-1.5">
        <legend className="text-xs font-medium text-muted">Kind of clone</legend>
        <label className="flex items-start gap-2 text-sm">
          <input
            type="radio"
            className="mt-1"
            name={`${ids.target}-mode`}
            checked={mode === "linked"}
            onChange={() => setMode("linked")}
          />
          <span>
            <span className="font-medium">Linked</span>: instant, a copy-on-write overlay on this version. Costs almost
            no space; the base can't be deleted while it exists.
          </span>
        </label>
        <label className="flex items-start gap-2 text-sm">
          <input
            type="radio"
            className="mt-1"
            name={`${ids.target}-mode`}
            checked={mode === "full"}
            onChange={() => setMode("full")}
          />
          <span>
            <span className="font-medium">Full</span>: an independent, self-contained copy that counts its full size
            against the quota. Without an identity reset it holds the same stored bytes and is instant; a reset, or a
            linked source, is flattened by a job.
          </span>
        </label>
      </fieldset>
      <fieldset className="space-y-1.5">
        <legend className="sr-only">Identity reset</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={reset} onChange={(event) => setReset(event.target.checked)} /> Reset the
          guest&apos;s identity (virt-sysprep, runs as a job)
        </label>
        {reset ? (
          <ul className="ml-6 space-y-1">
            {resetOptions.map((option) => (
              <li key={option.name}>
                <label className="flex items-start gap-2 text-sm">
                  <input
                    type="checkbox"
                    className="mt-1"
                    checked={operations.includes(option.name)}
                    onChange={(event) =>
                      setOperations((current) =>
                        event.target.checked
                          ? [...current, option.name]
                          : current.filter((name) => name !== option.name),
                      )
                    }
                  />
                  <span>
                    <code>{option.name}</code>: {option.description}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        ) : null}
      </fieldset>
      <Button type="submit" variant="primary" disabled={pending}>
        {pending ? "Cloning…" : reset || (mode === "full" && sourceLinked) ? "Queue the clone" : "Clone now"}
      </Button>
      <ActionMessage outcome={outcome} />
    </form>
  );
}
