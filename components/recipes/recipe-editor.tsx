"use client";

import { useRouter } from "next/navigation";
import { useId, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { NewImageForm } from "@/components/imports/import-workspace";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input, Select, Textarea } from "@/components/ui/input";
import { useServerAction } from "@/components/ui/use-server-action";
import { saveRecipeServerAction } from "@/lib/actions/recipes";
import { previewCommand } from "@/lib/builds/virt-customize";
import { formatBytes } from "@/lib/format";
import { growToProblem, stepLabels, type Step, type StepType } from "@/lib/recipes/steps";
import { recipeFromYaml, recipeToYaml, type RecipeDocument, type YamlProblem } from "@/lib/recipes/yaml";
import { emptyStep, fromStep, stepErrors, toStep, type StepForm } from "./step-form";
import { StepFields } from "./step-fields";

export interface RecipeChoices {
  bases: { image: string; imageName: string; version: string; releaseStatus: string; format: string | null }[];
  outputs: { slug: string; name: string; projectName: string }[];
  projects: { id: string; name: string }[];
  channels: { image: string; name: string }[];
  /** The admins' bound on "grow the disk to" (HANGAR_MAX_GROW_SIZE), in bytes. */
  maxGrowBytes: number;
}

type OutputFormat = RecipeDocument["output"]["format"];

interface EditorStep {
  key: string;
  form: StepForm;
  touched: boolean;
}

// Keys become element ids, so the first render's must match between server and browser; steps
// added or loaded later take keys from a counter that only runs in the browser.
let keys = 0;
const nextKey = () => `added-${(keys += 1)}`;
const toEditorSteps = (steps: Step[], key: (index: number) => string = () => nextKey()) =>
  steps.map((step, index) => ({ key: key(index), form: fromStep(step), touched: false }));

export function RecipeEditor({
  recipeId,
  projectId: initialProjectId,
  initial,
  choices,
  canEdit,
}: {
  recipeId?: string;
  projectId?: string;
  initial: RecipeDocument;
  choices: RecipeChoices;
  canEdit: boolean;
}) {
  const router = useRouter();
  const ids = { name: useId(), description: useId(), project: useId(), baseImage: useId(), baseVersion: useId(), output: useId(), format: useId(), grow: useId(), add: useId(), yaml: useId() };
  const [name, setName] = useState(initial.name);
  const [description, setDescription] = useState(initial.description ?? "");
  const [projectId, setProjectId] = useState(initialProjectId ?? choices.projects[0]?.id ?? "");
  const [baseImage, setBaseImage] = useState(initial.base.image);
  const [baseRef, setBaseRef] = useState(initial.base.version ? `version:${initial.base.version}` : `channel:${initial.base.channel ?? "latest"}`);
  const [outputs, setOutputs] = useState(choices.outputs);
  const [outputImage, setOutputImage] = useState(initial.output.image);
  const [format, setFormat] = useState<OutputFormat>(initial.output.format);
  const [growTo, setGrowTo] = useState(initial.output.growTo ?? "");
  const [steps, setSteps] = useState<EditorStep[]>(() => toEditorSteps(initial.steps, (index) => `initial-${index}`));
  const [newStepType, setNewStepType] = useState<StepType>("run");
  const [announcement, setAnnouncement] = useState("");
  const [creatingImage, setCreatingImage] = useState(false);
  const [showAllErrors, setShowAllErrors] = useState(false);
  const [yamlText, setYamlText] = useState("");
  const [yamlProblems, setYamlProblems] = useState<YamlProblem[] | null>(null);
  const saving = useServerAction();
  const dragFrom = useRef<number | null>(null);
  const stepRefs = useRef(new Map<string, HTMLLIElement>());

  const baseImages = useMemo(() => [...new Map(choices.bases.map((base) => [base.image, base.imageName])).entries()], [choices.bases]);
  const baseVersions = choices.bases.filter((base) => base.image === baseImage);

  const document: RecipeDocument = {
    name: name.trim(),
    description,
    base: baseRef.startsWith("version:") ? { image: baseImage, version: baseRef.slice(8) } : { image: baseImage, channel: baseRef.slice(8) },
    steps: steps.map((step) => toStep(step.form) as Step),
    output: { image: outputImage, format, ...(growTo.trim() ? { growTo: growTo.trim() } : {}) },
  };
  const errorsByStep = steps.map((step) => stepErrors(step.form));
  const invalidSteps = errorsByStep.filter((errors) => Object.keys(errors).length > 0).length;
  const validSteps = steps.filter((_, index) => Object.keys(errorsByStep[index]!).length === 0).map((step) => toStep(step.form) as Step);
  const serverField = (key: string) => saving.fieldError(`document.${key}`) ?? saving.fieldError(key);
  const growError = (growTo.trim() ? growToProblem(growTo.trim(), choices.maxGrowBytes) : null) ?? serverField("output.growTo");
  const growHint = `Like 20G, at most ${formatBytes(choices.maxGrowBytes)}; the build must also fit the project's quota. Partitions inside are not resized.`;

  const move = (from: number, to: number) => {
    if (to < 0 || to >= steps.length || from === to) return;
    const moved = steps[from]!;
    setSteps((current) => {
      const next = [...current];
      next.splice(to, 0, ...next.splice(from, 1));
      return next;
    });
    setAnnouncement(`Moved step “${stepLabels[moved.form.type]}” to position ${to + 1} of ${steps.length}.`);
    requestAnimationFrame(() => stepRefs.current.get(moved.key)?.focus());
  };
  const onStepKey = (event: KeyboardEvent<HTMLLIElement>, index: number) => {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    event.preventDefault();
    move(index, event.key === "ArrowUp" ? index - 1 : index + 1);
  };
  const onDrop = (event: DragEvent, index: number) => {
    event.preventDefault();
    if (dragFrom.current !== null) move(dragFrom.current, index);
    dragFrom.current = null;
  };
  const updateStep = (key: string, field: string, value: string) =>
    setSteps((current) => current.map((step) => (step.key === key ? { ...step, touched: true, form: { ...step.form, [field]: value } } : step)));
  const addStep = () => {
    const step = { key: nextKey(), form: emptyStep(newStepType), touched: false };
    setSteps((current) => [...current, step]);
    setAnnouncement(`Added step ${steps.length + 1}: ${stepLabels[newStepType]}.`);
    requestAnimationFrame(() => stepRefs.current.get(step.key)?.querySelector<HTMLElement>("input, textarea, select")?.focus());
  };
  const removeStep = (index: number) => {
    const removed = steps[index]!;
    setSteps((current) => current.filter((step) => step.key !== removed.key));
    setAnnouncement(`Removed step ${index + 1}: ${stepLabels[removed.form.type]}.`);
  };

  const save = () => {
    setShowAllErrors(true);
    if (invalidSteps > 0) {
      return saving.fail(`${invalidSteps} step${invalidSteps === 1 ? " has" : "s have"} problems; fix the fields marked in red.`);
    }
    if (growError) {
      return saving.fail(`The output can't be grown like that: ${growError}`);
    }
    saving.run(() => saveRecipeServerAction({ recipeId, projectId: recipeId ? undefined : projectId, document }), {
      onSuccess: (data) => router.push(`/recipes/${data.recipeId}?saved=${data.revision}${data.created ? "" : "&unchanged=1"}`),
    });
  };

  const loadYaml = () => {
    const parsed = recipeFromYaml(yamlText);
    if (!parsed.ok) return setYamlProblems(parsed.problems);
    const recipe = parsed.recipe;
    setYamlProblems([]);
    setName(recipe.name);
    setDescription(recipe.description ?? "");
    setBaseImage(recipe.base.image);
    setBaseRef(recipe.base.version ? `version:${recipe.base.version}` : `channel:${recipe.base.channel}`);
    setOutputImage(recipe.output.image);
    setFormat(recipe.output.format);
    setGrowTo(recipe.output.growTo ?? "");
    setSteps(toEditorSteps(recipe.steps));
    setAnnouncement(`Loaded the recipe from YAML: ${recipe.steps.length} steps. Save to keep it.`);
  };
  const yamlExport = recipeToYaml(document);

  return (
    <div className="space-y-5">
      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>

      <section aria-labelledby={`${ids.name}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <h2 id={`${ids.name}-section`} className="text-sm font-semibold">
          Recipe
        </h2>
        <div className="grid gap-3 sm:grid-cols-2">
          <Field id={ids.name} label="Name" error={serverField("name")}>
            <Input {...describedBy(ids.name, { error: serverField("name") })} value={name} required onChange={(event) => setName(event.target.value)} placeholder="Web server base" disabled={!canEdit} />
          </Field>
          {recipeId ? null : (
            <Field id={ids.project} label="Project" error={serverField("projectId")}>
              <Select {...describedBy(ids.project, { error: serverField("projectId") })} value={projectId} onChange={(event) => setProjectId(event.target.value)}>
                {choices.projects.map((project) => (
                  <option key={project.id} value={project.id}>
                    {project.name}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          <Field id={ids.description} label="Description (optional)" className="sm:col-span-2">
            <Textarea {...describedBy(ids.description, {})} rows={2} value={description} onChange={(event) => setDescription(event.target.value)} disabled={!canEdit} />
          </Field>
        </div>
      </section>

      <section aria-labelledby={`${ids.baseImage}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <h2 id={`${ids.baseImage}-section`} className="text-sm font-semibold">
          Base
        </h2>
        <div className="grid gap-3 sm:grid-cols-2">
          <Field id={ids.baseImage} label="Base image" error={serverField("base.image")}>
            <Select
              {...describedBy(ids.baseImage, { error: serverField("base.image") })}
              value={baseImage}
              disabled={!canEdit}
              onChange={(event) => {
                setBaseImage(event.target.value);
                setBaseRef("channel:latest");
              }}
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
          <Field id={ids.baseVersion} label="Version" error={serverField("base.version") ?? serverField("base.channel") ?? serverField("base")} hint="Follow latest to build on the newest usable version each time.">
            <Select
              {...describedBy(ids.baseVersion, { error: serverField("base.version") ?? serverField("base.channel"), hint: "Follow latest to build on the newest usable version each time." })}
              value={baseRef}
              disabled={!canEdit}
              onChange={(event) => setBaseRef(event.target.value)}
            >
              <option value="channel:latest">Follow latest</option>
              {choices.channels
                .filter((channel) => channel.image === baseImage)
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

      <section aria-labelledby={`${ids.add}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id={`${ids.add}-section`} className="text-sm font-semibold">
            Steps <span className="font-normal text-muted">({steps.length})</span>
          </h2>
          <p className="text-xs text-muted">Drag a step by its handle, use the arrows, or focus a step and press Alt+↑ / Alt+↓.</p>
        </div>
        {steps.length === 0 ? <p className="text-sm text-muted">No steps yet. Add one below.</p> : null}
        <ol aria-label="Steps" className="space-y-3">
          {steps.map((step, index) => {
            const errors = step.touched || showAllErrors ? { ...errorsByStep[index], ...stepServerErrors(saving.fieldErrors, index) } : stepServerErrors(saving.fieldErrors, index);
            return (
              <li
                key={step.key}
                ref={(element) => {
                  if (element) stepRefs.current.set(step.key, element);
                  else stepRefs.current.delete(step.key);
                }}
                tabIndex={-1}
                aria-label={`Step ${index + 1} of ${steps.length}: ${stepLabels[step.form.type]}`}
                onKeyDown={(event) => onStepKey(event, index)}
                onDragOver={(event) => event.preventDefault()}
                onDrop={(event) => onDrop(event, index)}
                className="rounded-md border border-line bg-canvas p-3 focus:outline-2 focus:outline-accent"
              >
                <div className="mb-2 flex items-center gap-2">
                  <span
                    draggable={canEdit}
                    onDragStart={(event) => {
                      dragFrom.current = index;
                      event.dataTransfer.effectAllowed = "move";
                    }}
                    title="Drag to reorder"
                    aria-hidden="true"
                    className="cursor-grab select-none px-1 text-muted"
                  >
                    ⠿
                  </span>
                  <span className="text-xs font-semibold tabular-nums text-muted">{index + 1}.</span>
                  <h3 className="flex-1 text-sm font-medium">{stepLabels[step.form.type]}</h3>
                  {canEdit ? (
                    <>
                      <Button size="sm" variant="ghost" aria-label={`Move step ${index + 1} up`} disabled={index === 0} onClick={() => move(index, index - 1)}>
                        ↑
                      </Button>
                      <Button size="sm" variant="ghost" aria-label={`Move step ${index + 1} down`} disabled={index === steps.length - 1} onClick={() => move(index, index + 1)}>
                        ↓
                      </Button>
                      <Button size="sm" variant="danger" aria-label={`Remove step ${index + 1}`} onClick={() => removeStep(index)}>
                        Remove
                      </Button>
                    </>
                  ) : null}
                </div>
                <fieldset disabled={!canEdit} className="contents">
                  <StepFields prefix={`${ids.add}-${step.key}`} form={step.form} errors={errors} onChange={(field, value) => updateStep(step.key, field, value)} projectId={projectId || null} />
                </fieldset>
              </li>
            );
          })}
        </ol>
        {canEdit ? (
          <div className="flex flex-wrap items-end gap-2">
            <Field id={ids.add} label="Add a step">
              <Select {...describedBy(ids.add, {})} value={newStepType} onChange={(event) => setNewStepType(event.target.value as StepType)}>
                {(Object.keys(stepLabels) as StepType[]).map((type) => (
                  <option key={type} value={type}>
                    {stepLabels[type]}
                  </option>
                ))}
              </Select>
            </Field>
            <Button onClick={addStep}>Add step</Button>
          </div>
        ) : null}
      </section>

      <section aria-labelledby={`${ids.output}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <h2 id={`${ids.output}-section`} className="text-sm font-semibold">
          Output
        </h2>
        <div className="grid gap-3 sm:grid-cols-3">
          <Field id={ids.output} label="Image the builds land in" error={serverField("output.image")}>
            <Select {...describedBy(ids.output, { error: serverField("output.image") })} value={outputImage} disabled={!canEdit} onChange={(event) => setOutputImage(event.target.value)}>
              <option value="" disabled>
                Choose an image…
              </option>
              {outputs.map((output) => (
                <option key={output.slug} value={output.slug}>
                  {output.name} ({output.projectName})
                </option>
              ))}
            </Select>
          </Field>
          <Field id={ids.format} label="Format">
            <Select {...describedBy(ids.format, {})} value={format} disabled={!canEdit} onChange={(event) => setFormat(event.target.value as OutputFormat)}>
              {(["qcow2", "raw", "vmdk", "vhdx"] as const).map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </Select>
          </Field>
          <Field id={ids.grow} label="Grow the disk to (optional)" error={growError} hint={growHint}>
            <Input {...describedBy(ids.grow, { error: growError, hint: growHint })} value={growTo} placeholder="20G" disabled={!canEdit} onChange={(event) => setGrowTo(event.target.value)} />
          </Field>
        </div>
        {canEdit ? (
          creatingImage ? (
            <NewImageForm
              projects={choices.projects}
              onCreated={(slug) => {
                setOutputs((current) => [...current, { slug, name: slug, projectName: "new" }]);
                setOutputImage(slug);
                setCreatingImage(false);
              }}
            />
          ) : (
            <Button size="sm" onClick={() => setCreatingImage(true)}>
              New image…
            </Button>
          )
        ) : null}
      </section>

      <section aria-labelledby={`${ids.yaml}-preview`} className="space-y-2 rounded-lg border border-line bg-surface p-4">
        <h2 id={`${ids.yaml}-preview`} className="text-sm font-semibold">
          What the build will run
        </h2>
        {invalidSteps > 0 ? <p className="text-xs text-amber-800 dark:text-amber-200">{invalidSteps} step(s) with problems are left out of the preview.</p> : null}
        <pre aria-label="Command preview" className="overflow-x-auto whitespace-pre-wrap break-all rounded-md bg-raised p-3 font-mono text-xs">
          {[
            `qemu-img create -f qcow2 -F <base format> -b <base blob> <work>/overlay.qcow2${growTo.trim() ? `\nqemu-img resize -f qcow2 <work>/overlay.qcow2 ${growTo.trim()}` : ""}`,
            previewCommand(validSteps),
            `qemu-img convert -f qcow2 -O ${format} <work>/overlay.qcow2 <work>/output.${format}`,
          ].join("\n")}
        </pre>
      </section>

      <details className="rounded-lg border border-line bg-surface p-4">
        <summary className="cursor-pointer text-sm font-semibold">YAML: export or import</summary>
        <div className="mt-3 grid gap-4 lg:grid-cols-2">
          <div className="space-y-2">
            <div className="flex items-center justify-between">
              <h3 className="text-xs font-medium text-muted">This recipe as YAML</h3>
              <a className="text-sm" download={`${name.trim() || "recipe"}.yaml`} href={`data:text/yaml;charset=utf-8,${encodeURIComponent(yamlExport)}`}>
                Download YAML
              </a>
            </div>
            <pre aria-label="Recipe YAML" className="max-h-80 overflow-auto rounded-md bg-raised p-3 font-mono text-xs">
              {yamlExport}
            </pre>
          </div>
          {canEdit ? (
            <div className="space-y-2">
              <Field id={ids.yaml} label="Paste YAML to replace the form">
                <Textarea {...describedBy(ids.yaml, {})} rows={10} className="font-mono text-xs" spellCheck={false} value={yamlText} onChange={(event) => setYamlText(event.target.value)} />
              </Field>
              <Button onClick={loadYaml} disabled={!yamlText.trim()}>
                Load YAML
              </Button>
              {yamlProblems && yamlProblems.length > 0 ? (
                <ul role="alert" aria-label="YAML problems" className="space-y-1 text-sm text-danger">
                  {yamlProblems.map((problem, index) => (
                    <li key={index}>
                      {problem.line ? `Line ${problem.line}: ` : ""}
                      {problem.path ? <code className="text-xs">{problem.path}</code> : null} {problem.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
        </div>
      </details>

      {canEdit ? (
        <div className="flex flex-wrap items-center gap-3">
          <Button variant="primary" onClick={save} disabled={saving.pending}>
            {saving.pending ? "Saving…" : recipeId ? "Save as new revision" : "Create recipe"}
          </Button>
          <ActionMessage outcome={saving.outcome} />
        </div>
      ) : (
        <p className="text-sm text-muted">You can read this recipe; only members and owners of its project can change it.</p>
      )}
    </div>
  );
}

function stepServerErrors(fields: Record<string, string[]> | undefined, index: number): Record<string, string> {
  const errors: Record<string, string> = {};
  const prefix = `document.steps.${index}.`;
  for (const [key, messages] of Object.entries(fields ?? {})) if (key.startsWith(prefix) && messages[0]) errors[key.slice(prefix.length).split(".")[0]!] = messages[0];
  return errors;
}
