"use client";

import { useEffect, useRef, type Dispatch, type KeyboardEvent } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Select } from "@/components/ui/input";
import { stepLabels, type StepType } from "@/lib/recipes/steps";
import { stepServerErrors, type EditorAction, type EditorState } from "./recipe-editor-state";
import { StepFields } from "./step-fields";

/** The ordered steps: reorder by drag, arrow buttons or Alt+↑/↓; add and remove steps. */
export function RecipeSteps({
  id,
  state,
  dispatch,
  errorsByStep,
  serverFieldErrors,
  canEdit,
}: {
  id: string;
  state: EditorState;
  dispatch: Dispatch<EditorAction>;
  errorsByStep: Record<string, string>[];
  serverFieldErrors: Record<string, string[]>;
  canEdit: boolean;
}) {
  const { steps } = state;
  const dragFrom = useRef<number | null>(null);
  const stepRefs = useRef(new Map<string, HTMLLIElement>());

  useEffect(() => {
    if (!state.focus) return;
    const element = stepRefs.current.get(state.focus.key);
    if (state.focus.target === "step") element?.focus();
    else element?.querySelector<HTMLElement>("input, textarea, select")?.focus();
  }, [state.focus]);

  const move = (from: number, to: number) => dispatch({ type: "moveStep", from, to });
  const onStepKey = (event: KeyboardEvent<HTMLLIElement>, index: number) => {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    event.preventDefault();
    move(index, event.key === "ArrowUp" ? index - 1 : index + 1);
  };

  return (
    <section aria-labelledby={`${id}-section`} className="space-y-3 rounded-lg border border-line bg-surface p-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={`${id}-section`} className="text-sm font-semibold">
          Steps <span className="font-normal text-muted">({steps.length})</span>
        </h2>
        <p className="text-xs text-muted">
          Drag a step by its handle, use the arrows, or focus a step and press Alt+↑ / Alt+↓.
        </p>
      </div>
      {steps.length === 0 ? <p className="text-sm text-muted">No steps yet. Add one below.</p> : null}
      <ol aria-label="Steps" className="space-y-3">
        {steps.map((step, index) => {
          const fromServer = stepServerErrors(serverFieldErrors, index);
          const errors = step.touched || state.showAllErrors ? { ...errorsByStep[index], ...fromServer } : fromServer;
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
              onDrop={(event) => {
                event.preventDefault();
                if (dragFrom.current !== null) move(dragFrom.current, index);
                dragFrom.current = null;
              }}
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
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Move step ${index + 1} up`}
                      disabled={index === 0}
                      onClick={() => move(index, index - 1)}
                    >
                      ↑
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Move step ${index + 1} down`}
                      disabled={index === steps.length - 1}
                      onClick={() => move(index, index + 1)}
                    >
                      ↓
                    </Button>
                    <Button
                      size="sm"
                      variant="danger"
                      aria-label={`Remove step ${index + 1}`}
                      onClick={() => dispatch({ type: "removeStep", index })}
                    >
                      Remove
                    </Button>
                  </>
                ) : null}
              </div>
              <fieldset disabled={!canEdit} className="contents">
                <StepFields
                  prefix={`${id}-${step.key}`}
                  form={step.form}
                  errors={errors}
                  onChange={(field, value) => dispatch({ type: "updateStep", key: step.key, field, value })}
                  projectId={state.projectId || null}
                />
              </fieldset>
            </li>
          );
        })}
      </ol>
      {canEdit ? (
        <div className="flex flex-wrap items-end gap-2">
          <Field id={id} label="Add a step">
            <Select
              {...describedBy(id, {})}
              value={state.newStepType}
              onChange={(event) =>
                dispatch({ type: "set", field: "newStepType", value: event.target.value as StepType })
              }
            >
              {(Object.keys(stepLabels) as StepType[]).map((type) => (
                <option key={type} value={type}>
                  {stepLabels[type]}
                </option>
              ))}
            </Select>
          </Field>
          <Button onClick={() => dispatch({ type: "addStep" })}>Add step</Button>
        </div>
      ) : null}
    </section>
  );
}
