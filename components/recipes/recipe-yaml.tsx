"use client";

import type { Dispatch } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Textarea } from "@/components/ui/input";
import type { YamlProblem } from "@/lib/recipes/yaml";
import type { EditorAction } from "./recipe-editor-state";

/** The recipe as YAML to download, and a box to paste YAML that replaces the form. */
export function RecipeYaml({
  id,
  fileName,
  yamlExport,
  yamlText,
  yamlProblems,
  dispatch,
  canEdit,
}: {
  id: string;
  fileName: string;
  yamlExport: string;
  yamlText: string;
  yamlProblems: YamlProblem[] | null;
  dispatch: Dispatch<EditorAction>;
  canEdit: boolean;
}) {
  return (
    <details className="rounded-lg border border-line bg-surface p-4">
      <summary className="cursor-pointer text-sm font-semibold">YAML: export or import</summary>
      <div className="mt-3 grid gap-4 lg:grid-cols-2">
        <div className="space-y-2">
          <div className="flex items-center justify-between">
            <h3 className="text-xs font-medium text-muted">This recipe as YAML</h3>
            <a
              className="text-sm"
              download={`${fileName}.yaml`}
              href={`data:text/yaml;charset=utf-8,${encodeURIComponent(yamlExport)}`}
            >
              Download YAML
            </a>
          </div>
          <pre aria-label="Recipe YAML" className="max-h-80 overflow-auto rounded-md bg-raised p-3 font-mono text-xs">
            {yamlExport}
          </pre>
        </div>
        {canEdit ? (
          <div className="space-y-2">
            <Field id={id} label="Paste YAML to replace the form">
              <Textarea
                {...describedBy(id, {})}
                rows={10}
                className="font-mono text-xs"
                spellCheck={false}
                value={yamlText}
                onChange={(event) => dispatch({ type: "set", field: "yamlText", value: event.target.value })}
              />
            </Field>
            <Button onClick={() => dispatch({ type: "loadYaml" })} disabled={!yamlText.trim()}>
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
  );
}
