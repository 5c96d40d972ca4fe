import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { BuildsTable } from "@/components/builds/builds-table";
import { BuildButton } from "@/components/recipes/build-button";
import { RecipeEditor } from "@/components/recipes/recipe-editor";
import { RevisionDiff } from "@/components/recipes/revision-diff";
import { PageHeader } from "@/components/shell/page-header";
import { buttonClasses } from "@/components/ui/button";
import { RelativeTime } from "@/components/ui/time";
import { listBuilds } from "@/db/queries/builds";
import { listProjectsForImport } from "@/db/queries/projects";
import { getRecipe, listRecipeChoices } from "@/db/queries/recipes";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Recipe" };

type Search = Promise<{ from?: string; to?: string; saved?: string; unchanged?: string }>;

export default async function RecipePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Search;
}) {
  const { id } = await params;
  const search = await searchParams;
  const viewer = await requireViewer(`/recipes/${id}`);
  const recipe = await getRecipe({ viewer, id });
  if (!recipe) notFound();
  const [choices, projects, builds] = await Promise.all([
    listRecipeChoices({ viewer }),
    listProjectsForImport({ viewer }),
    listBuilds({ viewer, recipeId: id, limit: 20 }),
  ]);
  const latest = recipe.revisions[0]!;
  const byNumber = (value: string | undefined) =>
    recipe.revisions.find((revision) => String(revision.revision) === value);
  const diffTo = byNumber(search.to) ?? latest;
  const diffFrom =
    byNumber(search.from) ?? recipe.revisions.find((revision) => revision.revision === diffTo.revision - 1);
  return (
    <div className="space-y-8">
      <PageHeader
        title={recipe.name}
        description={
          <>
            In {recipe.projectName} · revision {recipe.latestRevision} · saved <RelativeTime date={latest.createdAt} />{" "}
            by {latest.createdByEmail ?? "someone"}
          </>
        }
        actions={recipe.can.contribute ? <BuildButton recipeId={recipe.id} revision={latest.revision} /> : null}
      />
      {search.saved ? (
        <p role="status" className="rounded-md border border-line bg-surface px-3 py-2 text-sm">
          {search.unchanged
            ? `Nothing changed since revision ${search.saved}; no new revision was made.`
            : `Saved as revision ${search.saved}.`}
        </p>
      ) : null}

      <section aria-labelledby="builds-heading" className="space-y-3">
        <div className="flex items-baseline justify-between">
          <h2 id="builds-heading" className="text-base font-semibold">
            Recent builds
          </h2>
          <Link href="/builds">All builds</Link>
        </div>
        {builds.length ? (
          <BuildsTable builds={builds} label="Builds of this recipe" />
        ) : (
          <p className="text-sm text-muted">Not built yet.</p>
        )}
      </section>

      <section aria-labelledby="editor-heading" className="space-y-3">
        <h2 id="editor-heading" className="text-base font-semibold">
          {recipe.can.contribute ? `Edit (saving makes revision ${recipe.latestRevision + 1})` : "Recipe"}
        </h2>
        <RecipeEditor
          key={latest.id}
          recipeId={recipe.id}
          projectId={recipe.projectId}
          initial={latest.document}
          choices={{ ...choices, projects }}
          canEdit={recipe.can.contribute}
        />
      </section>

      <section aria-labelledby="revisions-heading" className="space-y-3">
        <h2 id="revisions-heading" className="text-base font-semibold">
          Revisions
        </h2>
        <ol className="space-y-1 text-sm">
          {recipe.revisions.map((revision) => (
            <li key={revision.id} className="flex flex-wrap items-center gap-2">
              <span className="font-medium tabular-nums">r{revision.revision}</span>
              <span className="text-muted">
                <RelativeTime date={revision.createdAt} /> by {revision.createdByEmail ?? "someone"} ·{" "}
                {revision.document.steps.length} steps
              </span>
              {revision.revision > 1 ? (
                <Link
                  className={buttonClasses({ size: "sm", variant: "ghost" })}
                  href={`/recipes/${recipe.id}?from=${revision.revision - 1}&to=${revision.revision}#diff`}
                >
                  Changes from r{revision.revision - 1}
                </Link>
              ) : null}
            </li>
          ))}
        </ol>
        {diffFrom ? (
          <div id="diff">
            <RevisionDiff from={diffFrom} to={diffTo} />
          </div>
        ) : null}
      </section>
    </div>
  );
}
