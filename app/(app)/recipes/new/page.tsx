import type { Metadata } from "next";
import { RecipeEditor } from "@/components/recipes/recipe-editor";
import { PageHeader } from "@/components/shell/page-header";
import { listProjectsForImport } from "@/db/queries/projects";
import { listRecipeChoices } from "@/db/queries/recipes";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "New recipe" };

type Search = Promise<{ base?: string | string[]; version?: string | string[] }>;

export default async function NewRecipePage({ searchParams }: { searchParams: Search }) {
  const { base, version } = await searchParams;
  const viewer = await requireViewer("/recipes/new");
  const [{ bases, outputs, channels, maxGrowBytes }, projects] = await Promise.all([
    listRecipeChoices({ viewer }),
    listProjectsForImport({ viewer }),
  ]);
  const baseImage =
    typeof base === "string" && bases.some((entry) => entry.image === base) ? base : (bases[0]?.image ?? "");
  const baseVersion =
    typeof version === "string" && bases.some((entry) => entry.image === baseImage && entry.version === version)
      ? version
      : undefined;
  if (projects.length === 0) {
    return (
      <div>
        <PageHeader title="New recipe" />
        <p className="rounded-lg border border-line bg-surface p-6 text-muted">
          You are not a member of a project you can write to, so you can't create recipes yet. Ask a project owner to
          add you.
        </p>
      </div>
    );
  }
  return (
    <div>
      <PageHeader
        title="New recipe"
        description="Pick a base, add steps, choose where the output lands. Nothing runs until you build."
      />
      <RecipeEditor
        choices={{ bases, outputs, projects, channels, maxGrowBytes }}
        canEdit
        initial={{
          name: "",
          description: "",
          base: baseVersion ? { image: baseImage, version: baseVersion } : { image: baseImage, channel: "latest" },
          steps: [],
          // Builds usually land as new versions of the base's own image; otherwise the person picks.
          output: { image: outputs.some((output) => output.slug === baseImage) ? baseImage : "", format: "qcow2" },
        }}
      />
    </div>
  );
}
