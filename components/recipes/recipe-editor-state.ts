// The recipe editor's state and every change to it, as a pure reducer: the component only renders
// and dispatches, so the rules (a new base image follows latest, a moved step is announced, loaded
// YAML replaces the form) are tested without a browser.
import { growToProblem, stepLabels, type Step, type StepType } from "@/lib/recipes/steps";
import { recipeFromYaml, type RecipeDocument, type YamlProblem } from "@/lib/recipes/yaml";
import { emptyStep, fromStep, stepErrors, toStep, type StepForm } from "./step-form";

export type OutputFormat = RecipeDocument["output"]["format"];
export const outputFormats = ["qcow2", "raw", "vmdk", "vhdx"] as const satisfies readonly OutputFormat[];

export interface EditorStep {
  /** Becomes part of element ids: initial-<n> on the first render (same on server and browser), added-<n> later. */
  key: string;
  form: StepForm;
  touched: boolean;
}

export interface OutputChoice {
  slug: string;
  name: string;
  projectName: string;
}

export interface EditorState {
  name: string;
  description: string;
  projectId: string;
  baseImage: string;
  /** `version:<label>` or `channel:<name>`. */
  baseRef: string;
  outputs: OutputChoice[];
  outputImage: string;
  format: OutputFormat;
  growTo: string;
  steps: EditorStep[];
  /** Counter for the keys of steps added or loaded after the first render. */
  addedSteps: number;
  newStepType: StepType;
  /** Read out by a polite live region after moves, additions, removals and loads. */
  announcement: string;
  /** What should have focus after the last change: a step, or the first field of one. */
  focus: { key: string; target: "step" | "field" } | null;
  creatingImage: boolean;
  showAllErrors: boolean;
  yamlText: string;
  yamlProblems: YamlProblem[] | null;
}

type Editable = Pick<
  EditorState,
  "name" | "description" | "projectId" | "baseRef" | "outputImage" | "format" | "growTo" | "newStepType" | "yamlText"
>;

export type EditorAction =
  | { [Field in keyof Editable]: { type: "set"; field: Field; value: Editable[Field] } }[keyof Editable]
  | { type: "chooseBaseImage"; image: string }
  | { type: "addStep" }
  | { type: "removeStep"; index: number }
  | { type: "moveStep"; from: number; to: number }
  | { type: "updateStep"; key: string; field: string; value: string }
  | { type: "loadYaml" }
  | { type: "startCreatingImage" }
  | { type: "imageCreated"; slug: string }
  | { type: "showAllErrors" };

const baseRefOf = (base: RecipeDocument["base"]) =>
  base.version ? `version:${base.version}` : `channel:${base.channel ?? "latest"}`;

export function initialEditorState({
  initial,
  projectId,
  projects,
  outputs,
}: {
  initial: RecipeDocument;
  projectId?: string;
  projects: { id: string }[];
  outputs: OutputChoice[];
}): EditorState {
  return {
    name: initial.name,
    description: initial.description ?? "",
    projectId: projectId ?? projects[0]?.id ?? "",
    baseImage: initial.base.image,
    baseRef: baseRefOf(initial.base),
    outputs,
    outputImage: initial.output.image,
    format: initial.output.format,
    growTo: initial.output.growTo ?? "",
    steps: initial.steps.map((step, index) => ({ key: `initial-${index}`, form: fromStep(step), touched: false })),
    addedSteps: 0,
    newStepType: "run",
    announcement: "",
    focus: null,
    creatingImage: false,
    showAllErrors: false,
    yamlText: "",
    yamlProblems: null,
  };
}

export function editorReducer(state: EditorState, action: EditorAction): EditorState {
  switch (action.type) {
    case "set":
      return { ...state, [action.field]: action.value };
    case "chooseBaseImage":
      // Versions belong to an image: a new base starts by following its latest.
      return { ...state, baseImage: action.image, baseRef: "channel:latest" };
    case "addStep": {
      const step = { key: `added-${state.addedSteps + 1}`, form: emptyStep(state.newStepType), touched: false };
      return {
        ...state,
        steps: [...state.steps, step],
        addedSteps: state.addedSteps + 1,
        announcement: `Added step ${state.steps.length + 1}: ${stepLabels[state.newStepType]}.`,
        focus: { key: step.key, target: "field" },
      };
    }
    case "removeStep": {
      const removed = state.steps[action.index];
      if (!removed) return state;
      return {
        ...state,
        steps: state.steps.filter((step) => step.key !== removed.key),
        announcement: `Removed step ${action.index + 1}: ${stepLabels[removed.form.type]}.`,
        focus: null,
      };
    }
    case "moveStep": {
      const { from, to } = action;
      const moved = state.steps[from];
      if (!moved || to < 0 || to >= state.steps.length || from === to) return state;
      const steps = [...state.steps];
      steps.splice(to, 0, ...steps.splice(from, 1));
      return {
        ...state,
        steps,
        announcement: `Moved step “${stepLabels[moved.form.type]}” to position ${to + 1} of ${steps.length}.`,
        focus: { key: moved.key, target: "step" },
      };
    }
    case "updateStep":
      return {
        ...state,
        steps: state.steps.map((step) =>
          step.key === action.key
            ? { ...step, touched: true, form: { ...step.form, [action.field]: action.value } }
            : step,
        ),
      };
    case "loadYaml": {
      const parsed = recipeFromYaml(state.yamlText);
      if (!parsed.ok) return { ...state, yamlProblems: parsed.problems };
      const recipe = parsed.recipe;
      return {
        ...state,
        yamlProblems: [],
        name: recipe.name,
        description: recipe.description ?? "",
        baseImage: recipe.base.image,
        baseRef: baseRefOf(recipe.base),
        outputImage: recipe.output.image,
        format: recipe.output.format,
        growTo: recipe.output.growTo ?? "",
        steps: recipe.steps.map((step, index) => ({
          key: `added-${state.addedSteps + index + 1}`,
          form: fromStep(step),
          touched: false,
        })),
        addedSteps: state.addedSteps + recipe.steps.length,
        announcement: `Loaded the recipe from YAML: ${recipe.steps.length} steps. Save to keep it.`,
        focus: null,
      };
    }
    case "startCreatingImage":
      return { ...state, creatingImage: true };
    case "imageCreated":
      return {
        ...state,
        outputs: [...state.outputs, { slug: action.slug, name: action.slug, projectName: "new" }],
        outputImage: action.slug,
        creatingImage: false,
      };
    case "showAllErrors":
      return { ...state, showAllErrors: true };
  }
}

/** The document the form stands for, as the server's schema will read it. */
export function editorDocument(state: EditorState): RecipeDocument {
  const growTo = state.growTo.trim();
  return {
    name: state.name.trim(),
    description: state.description,
    base: state.baseRef.startsWith("version:")
      ? { image: state.baseImage, version: state.baseRef.slice(8) }
      : { image: state.baseImage, channel: state.baseRef.slice(8) },
    steps: state.steps.map((step) => toStep(step.form) as Step),
    output: { image: state.outputImage, format: state.format, ...(growTo ? { growTo } : {}) },
  };
}

/** What the editor checks before it sends anything: each step's fields and the grow size. */
export function editorProblems(state: EditorState, maxGrowBytes: number) {
  const errorsByStep = state.steps.map((step) => stepErrors(step.form));
  const invalidSteps = errorsByStep.filter((errors) => Object.keys(errors).length > 0).length;
  const validSteps = state.steps
    .filter((_, index) => Object.keys(errorsByStep[index]!).length === 0)
    .map((step) => toStep(step.form) as Step);
  const growTo = state.growTo.trim();
  return { errorsByStep, invalidSteps, validSteps, growProblem: growTo ? growToProblem(growTo, maxGrowBytes) : null };
}

/** Why saving is refused before the server is asked, or null when the form may be sent. */
export function saveRefusal({
  invalidSteps,
  growError,
}: {
  invalidSteps: number;
  growError: string | null | undefined;
}): string | null {
  if (invalidSteps > 0)
    return `${invalidSteps} step${invalidSteps === 1 ? " has" : "s have"} problems; fix the fields marked in red.`;
  if (growError) return `The output can't be grown like that: ${growError}`;
  return null;
}

/** The server's field errors for one step (`document.steps.<n>.<field>`), by field. */
export function stepServerErrors(fields: Record<string, string[]> | undefined, index: number): Record<string, string> {
  const errors: Record<string, string> = {};
  const prefix = `document.steps.${index}.`;
  for (const [key, messages] of Object.entries(fields ?? {}))
    if (key.startsWith(prefix) && messages[0]) errors[key.slice(prefix.length).split(".")[0]!] = messages[0];
  return errors;
}
