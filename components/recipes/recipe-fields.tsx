"use client";

import { useMemo, type Dispatch } from "react";
import { NewImageForm } from "@/components/imports/import-workspace";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select, Textarea } from "@/components/ui/input";
import { outputFormats, type EditorAction, type EditorState, type OutputFormat } from "./recipe-editor-state";
import type { RecipeChoices } from "./recipe-editor";

type ServerField = (key: string) => string | undefined;

interface SectionProps {
  id: string;
  state: EditorState;
  dispatch: Dispatch<EditorAction>;
  serverField: ServerField;
  canEdit: boolean;
}

/** Name, project (only for a new recipe) and description. */
export function RecipeSection({
  id,
  state,
  dispatch,
  serverField,
  canEdit,
  projects,
  isNew,
}: SectionProps & { projects: RecipeChoices["projects"]; isNew: boolean }) {
  const ids = { name: `${id}-name`, project: `${id}-project`, description: `${id}-description` };
  return (
    <section aria-labelledby={`${id}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
      <h2 id={`${id}-section`} className="text-sm font-semibold">
        Recipe
      </h2>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id={ids.name} label="Name" error={serverField("name")}>
          <Input
            {...describedBy(ids.name, { error: serverField("name") })}
            value={state.name}
            required
            onChange={(event) => dispatch({ type: "set", field: "name", value: event.target.value })}
            placeholder="Web server base"
            disabled={!canEdit}
          />
        </Field>
        {isNew ? (
          <Field id={ids.project} label="Project" error={serverField("projectId")}>
            <Select
              {...describedBy(ids.project, { error: serverField("projectId") })}
              value={state.projectId}
              onChange={(event) => dispatch({ type: "set", field: "projectId", value: event.target.value })}
            >
              {projects.map((project) => (
                <option key={project.id} value={project.id}>
                  {project.name}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        <Field id={ids.description} label="Description (optional)" className="sm:col-span-2">
          <Textarea
            {...describedBy(ids.description, {})}
            rows={2}
            value={state.description}
            onChange={(event) => dispatch({ type: "set", field: "description", value: event.target.value })}
            disabled={!canEdit}
          />
        </Field>
      </div>
    </section>
  );
}

const followHint = "Follow latest to build on the newest usable version each time.";

/** The base image and which of its versions (or channel) the build starts from. */
export function BaseSection({
  id,
  state,
  dispatch,
  serverField,
  canEdit,
  choices,
}: SectionProps & { choices: Pick<RecipeChoices, "bases" | "channels"> }) {
  const ids = { image: `${id}-image`, version: `${id}-version` };
  const baseImages = useMemo(
    () => [...new Map(choices.bases.map((base) => [base.image, base.imageName])).entries()],
    [choices.bases],
  );
  const baseVersions = choices.bases.filter((base) => base.image === state.baseImage);
  return (
    <section aria-labelledby={`${id}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
      <h2 id={`${id}-section`} className="text-sm font-semibold">
        Base
      </h2>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id={ids.image} label="Base image" error={serverField("base.image")}>
          <Select
            {...describedBy(ids.image, { error: serverField("base.image") })}
            value={state.baseImage}
            disabled={!canEdit}
            onChange={(event) => dispatch({ type: "chooseBaseImage", image: event.target.value })}
          >
            <option value="" disabled>
              Choose a base image…
            </option>
            {baseImages.map(([slug, imageName]) => (
              <option key={slug} value={slug}>
                {imageName} ({slug})
              </option>
            ))}
          </Select>
        </Field>
        <Field
          id={ids.version}
          label="Version"
          error={serverField("base.version") ?? serverField("base.channel") ?? serverField("base")}
          hint={followHint}
        >
          <Select
            {...describedBy(ids.version, {
              error: serverField("base.version") ?? serverField("base.channel"),
              hint: followHint,
            })}
            value={state.baseRef}
            disabled={!canEdit}
            onChange={(event) => dispatch({ type: "set", field: "baseRef", value: event.target.value })}
          >
            <option value="channel:latest">Follow latest</option>
            {choices.channels
              .filter((channel) => channel.image === state.baseImage)
              .map((channel) => (
                <option key={channel.name} value={`channel:${channel.name}`}>
                  Follow {channel.name}
                </option>
              ))}
            {baseVersions.map((base) => (
              <option key={base.version} value={`version:${base.version}`}>
                {base.version} ({base.format}, {base.releaseStatus.replace("_", " ")})
              </option>
            ))}
          </Select>
        </Field>
      </div>
    </section>
  );
}

/** The image the builds land in, its format and an optional bigger disk; or a new image for it. */
export function OutputSection({
  id,
  state,
  dispatch,
  serverField,
  canEdit,
  projects,
  growError,
  growHint,
}: SectionProps & { projects: RecipeChoices["projects"]; growError: string | null | undefined; growHint: string }) {
  const ids = { image: `${id}-image`, format: `${id}-format`, grow: `${id}-grow` };
  return (
    <section aria-labelledby={`${id}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
      <h2 id={`${id}-section`} className="text-sm font-semibold">
        Output
      </h2>
      <div className="grid gap-3 sm:grid-cols-3">
        <Field id={ids.image} label="Image the builds land in" error={serverField("output.image")}>
          <Select
            {...describedBy(ids.image, { error: serverField("output.image") })}
            value={state.outputImage}
            disabled={!canEdit}
            onChange={(event) => dispatch({ type: "set", field: "outputImage", value: event.target.value })}
          >
            <option value="" disabled>
              Choose an image…
            </option>
            {state.outputs.map((output) => (
              <option key={output.slug} value={output.slug}>
                {output.name} ({output.projectName})
              </option>
            ))}
          </Select>
        </Field>
        <Field id={ids.format} label="Format">
          <Select
            {...describedBy(ids.format, {})}
            value={state.format}
            disabled={!canEdit}
            onChange={(event) => dispatch({ type: "set", field: "format", value: event.target.value as OutputFormat })}
          >
            {outputFormats.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </Select>
        </Field>
        <Field id={ids.grow} label="Grow the disk to (optional)" error={growError ?? undefined} hint={growHint}>
          <Input
            {...describedBy(ids.grow, { error: growError ?? undefined, hint: growHint })}
            value={state.growTo}
            placeholder="20G"
            disabled={!canEdit}
            onChange={(event) => dispatch({ type: "set", field: "growTo", value: event.target.value })}
          />
        </Field>
      </div>
      {canEdit ? (
        state.creatingImage ? (
          <NewImageForm projects={projects} onCreated={(slug) => dispatch({ type: "imageCreated", slug })} />
        ) : (
          <Button size="sm" onClick={() => dispatch({ type: "startCreatingImage" })}>
            New image…
          </Button>
        )
      ) : null}
    </section>
  );
}
