import { describe, expect, it } from "vitest";
import { recipeToYaml, type RecipeDocument } from "@/lib/recipes/yaml";
import {
  editorDocument,
  editorProblems,
  editorReducer,
  initialEditorState,
  saveRefusal,
  stepServerErrors,
  type EditorAction,
  type EditorState,
} from "./recipe-editor-state";

const recipe: RecipeDocument = {
  name: "Web server",
  description: "nginx on Debian",
  base: { image: "debian-12-base", version: "12.7.0" },
  steps: [
    { type: "install", packages: ["nginx", "curl"] },
    { type: "run", script: "systemctl enable nginx" },
    { type: "hostname", hostname: "web" },
  ],
  output: { image: "web-server", format: "qcow2" },
};

const start = (document: RecipeDocument = recipe) =>
  initialEditorState({
    initial: document,
    projects: [{ id: "p1" }, { id: "p2" }],
    outputs: [{ slug: "web-server", name: "Web server", projectName: "Team" }],
  });

const apply = (state: EditorState, ...actions: EditorAction[]) => actions.reduce(editorReducer, state);

describe("recipe editor state", () => {
  it("starts from the document, with keys that are the same on the server and in the browser", () => {
    const state = start();
    expect(state.steps.map((step) => step.key)).toEqual(["initial-0", "initial-1", "initial-2"]);
    expect(state.steps[0]!.form).toEqual({ type: "install", packages: "nginx curl" });
    expect(state.baseRef).toBe("version:12.7.0");
    expect(state.projectId).toBe("p1");
    expect(start({ ...recipe, base: { image: "debian-12-base", channel: "stable" } }).baseRef).toBe("channel:stable");
    expect(
      initialEditorState({ initial: recipe, projectId: "p2", projects: [{ id: "p1" }], outputs: [] }).projectId,
    ).toBe("p2");
    expect(editorDocument(state)).toEqual({ ...recipe, steps: recipe.steps });
  });

  it("follows latest when another base image is chosen", () => {
    const state = apply(start(), { type: "chooseBaseImage", image: "ubuntu-24-base" });
    expect(state.baseImage).toBe("ubuntu-24-base");
    expect(state.baseRef).toBe("channel:latest");
    expect(editorDocument(state).base).toEqual({ image: "ubuntu-24-base", channel: "latest" });
  });

  it("adds a step of the chosen type at the end, announces it and focuses its first field", () => {
    const state = apply(
      start(),
      { type: "set", field: "newStepType", value: "timezone" },
      { type: "addStep" },
      { type: "addStep" },
    );
    expect(state.steps.map((step) => step.key)).toEqual(["initial-0", "initial-1", "initial-2", "added-1", "added-2"]);
    expect(state.steps[3]!.form).toEqual({ type: "timezone", timezone: "UTC" });
    expect(state.announcement).toBe("Added step 5: Set the time zone.");
    expect(state.focus).toEqual({ key: "added-2", target: "field" });
  });

  it("moves a step, announces its new position and keeps focus on it; refuses moves off the ends", () => {
    const initial = start();
    const moved = apply(initial, { type: "moveStep", from: 0, to: 2 });
    expect(moved.steps.map((step) => step.form.type)).toEqual(["run", "hostname", "install"]);
    expect(moved.announcement).toBe("Moved step “Install packages” to position 3 of 3.");
    expect(moved.focus).toEqual({ key: "initial-0", target: "step" });
    for (const [from, to] of [
      [0, -1],
      [2, 3],
      [1, 1],
      [5, 0],
    ] as const) {
      expect(apply(initial, { type: "moveStep", from, to })).toBe(initial);
    }
  });

  it("removes a step and announces which", () => {
    const state = apply(start(), { type: "removeStep", index: 1 });
    expect(state.steps.map((step) => step.key)).toEqual(["initial-0", "initial-2"]);
    expect(state.announcement).toBe("Removed step 2: Run a command.");
  });

  it("marks an edited step as touched and leaves the others alone", () => {
    const initial = start();
    const state = apply(initial, { type: "updateStep", key: "initial-1", field: "script", value: "echo hi" });
    expect(state.steps[1]).toEqual({ key: "initial-1", touched: true, form: { type: "run", script: "echo hi" } });
    expect(state.steps[0]).toBe(initial.steps[0]);
  });

  it("replaces the form with loaded YAML, or lists the problems and changes nothing", () => {
    const other: RecipeDocument = {
      name: "CI runner",
      description: "",
      base: { image: "ubuntu-24-base", channel: "latest" },
      steps: [{ type: "run", script: "make" }],
      output: { image: "ci-runner", format: "raw", growTo: "20G" },
    };
    const loaded = apply(
      start(),
      { type: "addStep" },
      { type: "set", field: "yamlText", value: recipeToYaml(other) },
      { type: "loadYaml" },
    );
    expect(loaded.yamlProblems).toEqual([]);
    expect(editorDocument(loaded)).toEqual(other);
    expect(loaded.steps.map((step) => step.key)).toEqual(["added-2"]);
    expect(loaded.announcement).toBe("Loaded the recipe from YAML: 1 steps. Save to keep it.");

    const broken = apply(
      start(),
      { type: "set", field: "yamlText", value: "name: x\nbase: [unclosed\n" },
      { type: "loadYaml" },
    );
    expect(broken.yamlProblems?.length).toBeGreaterThan(0);
    expect(editorDocument(broken)).toEqual(editorDocument(start()));
  });

  it("selects a newly created output image", () => {
    const state = apply(start(), { type: "startCreatingImage" }, { type: "imageCreated", slug: "fresh" });
    expect(state.creatingImage).toBe(false);
    expect(state.outputImage).toBe("fresh");
    expect(state.outputs.at(-1)).toEqual({ slug: "fresh", name: "fresh", projectName: "new" });
  });

  it("leaves out a blank grow size and trims one that is set", () => {
    expect(editorDocument(apply(start(), { type: "set", field: "growTo", value: "  " })).output).toEqual({
      image: "web-server",
      format: "qcow2",
    });
    expect(editorDocument(apply(start(), { type: "set", field: "growTo", value: " 40G " })).output).toEqual({
      image: "web-server",
      format: "qcow2",
      growTo: "40G",
    });
  });

  it("refuses to save with invalid steps or a grow size over the bound, and says why", () => {
    const invalid = apply(
      start(),
      { type: "updateStep", key: "initial-2", field: "hostname", value: "" },
      { type: "set", field: "growTo", value: "5T" },
    );
    const problems = editorProblems(invalid, 1024 ** 4);
    expect(problems.invalidSteps).toBe(1);
    expect(problems.validSteps.map((step) => step.type)).toEqual(["install", "run"]);
    expect(problems.growProblem).toMatch(/at most/);
    expect(saveRefusal({ invalidSteps: 1, growError: problems.growProblem })).toBe(
      "1 step has problems; fix the fields marked in red.",
    );
    expect(saveRefusal({ invalidSteps: 2, growError: null })).toBe(
      "2 steps have problems; fix the fields marked in red.",
    );
    expect(saveRefusal({ invalidSteps: 0, growError: "too big" })).toBe("The output can't be grown like that: too big");
    expect(saveRefusal({ invalidSteps: 0, growError: undefined })).toBeNull();
    expect(editorProblems(start(), 1024 ** 4)).toMatchObject({ invalidSteps: 0, growProblem: null });
  });

  it("picks the server's field errors of one step", () => {
    const fields = {
      "document.steps.1.script": ["Enter a script."],
      "document.steps.10.path": ["x"],
      "document.name": ["Name it."],
    };
    expect(stepServerErrors(fields, 1)).toEqual({ script: "Enter a script." });
    expect(stepServerErrors(fields, 0)).toEqual({});
  });
});
