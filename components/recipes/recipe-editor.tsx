"use client";

import { useRouter } from "next/navigation";
import { useId, useReducer } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { saveRecipeServerAction } from "@/lib/actions/recipes";
import { previewCommand } from "@/lib/builds/virt-customize";
import { formatBytes } from "@/lib/format";
import { recipeToYaml, type RecipeDocument } from "@/lib/recipes/yaml";
import { editorDocument, editorProblems, editorReducer, initialEditorState, saveRefusal } from "./recipe-editor-state";
import { BaseSection, OutputSection, RecipeSection } from "./recipe-fields";
import { RecipeSteps } from "./recipe-steps";
import { RecipeYaml } from "./recipe-yaml";

export interface RecipeChoices {
  bases: { image: string; imageName: string; version: string; releaseStatus: string; format: string | null }[];
  outputs: { slug: string; name: string; projectName: string }[];
  projects: { id: string; name: string }[];
  channels: { image: string; name: string }[];
  /** The admins' bound on "grow the disk to" (HANGAR_MAX_GROW_SIZE), in bytes. */
  maxGrowBytes: number;
}

export function RecipeEditor({
  recipeId,
  projectId,
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
  const id = useId();
  const [state, dispatch] = useReducer(
    editorReducer,
    { initial, projectId, projects: choices.projects, outputs: choices.outputs },
    initialEditorState,
  );
  const saving = useServerAction();

  const document = editorDocument(state);
  const { errorsByStep, invalidSteps, validSteps, growProblem } = editorProblems(state, choices.maxGrowBytes);
  const serverField = (key: string) => saving.fieldError(`document.${key}`) ?? saving.fieldError(key);
  const growError = growProblem ?? serverField("output.growTo");
  const growHint = `Like 20G, at most ${formatBytes(choices.maxGrowBytes)}; the build must also fit the project's quota. Partitions inside are not resized.`;
  const growTo = state.growTo.trim();
  const sections = { state, dispatch, serverField, canEdit };

  const save = () => {
    dispatch({ type: "showAllErrors" });
    const refusal = saveRefusal({ invalidSteps, growError });
    if (refusal) return saving.fail(refusal);
    saving.run(
      () => saveRecipeServerAction({ recipeId, projectId: recipeId ? undefined : state.projectId, document }),
      {
        onSuccess: (data) =>
          router.push(`/recipes/${data.recipeId}?saved=${data.revision}${data.created ? "" : "&unchanged=1"}`),
      },
    );
  };

  return (
    <div className="space-y-5">
      <p aria-live="polite" className="sr-only">
        {state.announcement}
      </p>

      <RecipeSection id={`${id}-recipe`} {...sections} projects={choices.projects} isNew={!recipeId} />
      <BaseSection id={`${id}-base`} {...sections} choices={choices} />
      <RecipeSteps
        id={`${id}-steps`}
        state={state}
        dispatch={dispatch}
        errorsByStep={errorsByStep}
        serverFieldErrors={saving.fieldErrors}
        canEdit={canEdit}
      />
      <OutputSection
        id={`${id}-output`}
        {...sections}
        projects={choices.projects}
        growError={growError}
        growHint={growHint}
      />

      <section aria-labelledby={`${id}-preview`} className="space-y-2 rounded-lg border border-line bg-surface p-4">
        <h2 id={`${id}-preview`} className="text-sm font-semibold">
          What the build will run
        </h2>
        {invalidSteps > 0 ? (
          <p className="text-xs text-amber-800 dark:text-amber-200">
            {invalidSteps} step(s) with problems are left out of the preview.
          </p>
        ) : null}
        <pre
          aria-label="Command preview"
          className="overflow-x-auto whitespace-pre-wrap break-all rounded-md bg-raised p-3 font-mono text-xs"
        >
          {[
            `qemu-img create -f qcow2 -F <base format> -b <base blob> <work>/overlay.qcow2${growTo ? `\nqemu-img resize -f qcow2 <work>/overlay.qcow2 ${growTo}` : ""}`,
            previewCommand(validSteps),
            `qemu-img convert -f qcow2 -O ${state.format} <work>/overlay.qcow2 <work>/output.${state.format}`,
          ].join("\n")}
        </pre>
      </section>

      <RecipeYaml
        id={`${id}-yaml`}
        fileName={state.name.trim() || "recipe"}
        yamlExport={recipeToYaml(document)}
        yamlText={state.yamlText}
        yamlProblems={state.yamlProblems}
        dispatch={dispatch}
        canEdit={canEdit}
      />

      {canEdit ? (
        <div className="flex flex-wrap items-center gap-3">
          <Button variant="primary" onClick={save} disabled={saving.pending}>
            {saving.pending ? "Saving…" : recipeId ? "Save as new revision" : "Create recipe"}
          </Button>
          <ActionMessage outcome={saving.outcome} />
        </div>
      ) : (
        <p className="text-sm text-muted">
          You can read this recipe; only members and owners of its project can change it.
        </p>
      )}
    </div>
  );
}
