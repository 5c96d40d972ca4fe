import { diffLines } from "diff";
import { cx } from "@/components/ui/cx";
import { recipeToYaml, type RecipeDocument } from "@/lib/recipes/yaml";

/** Two revisions as YAML, line by line: what was removed, added and kept. */
export function RevisionDiff({
  from,
  to,
}: {
  from: { revision: number; document: RecipeDocument };
  to: { revision: number; document: RecipeDocument };
}) {
  const parts = diffLines(recipeToYaml(from.document), recipeToYaml(to.document));
  const changed = parts.some((part) => part.added || part.removed);
  return (
    <figure className="space-y-2">
      <figcaption className="text-sm text-muted">
        Revision {from.revision} → revision {to.revision}
        {changed ? "" : ": no differences"}
      </figcaption>
      <pre
        aria-label={`Changes from revision ${from.revision} to ${to.revision}`}
        className="overflow-x-auto rounded-md border border-line bg-surface p-3 font-mono text-xs"
      >
        {parts.flatMap((part, index) =>
          part.value
            .replace(/\n$/, "")
            .split("\n")
            .map((line, lineIndex) => (
              <div
                key={`${index}-${lineIndex}`}
                className={cx(
                  part.added && "bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100",
                  part.removed && "bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-100",
                )}
              >
                {part.added ? (
                  <ins className="no-underline">+ {line}</ins>
                ) : part.removed ? (
                  <del className="no-underline">- {line}</del>
                ) : (
                  `  ${line}`
                )}
              </div>
            )),
        )}
      </pre>
    </figure>
  );
}
