import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/shell/page-header";
import { buttonClasses } from "@/components/ui/button";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { listRecipes } from "@/db/queries/recipes";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Recipes" };

export default async function RecipesPage() {
  const viewer = await requireViewer("/recipes");
  const recipes = await listRecipes({ viewer });
  return (
    <div>
      <PageHeader
        title="Recipes"
        description="A recipe is a base image plus ordered customization steps. Every save is a new revision; a build runs one revision and its output waits for review."
        actions={
          <Link href="/recipes/new" className={buttonClasses({ variant: "primary" })}>
            New recipe
          </Link>
        }
      />
      {recipes.length === 0 ? (
        <p className="rounded-lg border border-line bg-surface p-6 text-muted">
          No recipes yet. <Link href="/recipes/new">Write the first one</Link>, or open a version in the catalog and
          choose Customize.
        </p>
      ) : (
        <Table label="Recipes">
          <thead>
            <tr>
              <Th>Recipe</Th>
              <Th>Project</Th>
              <Th>Base</Th>
              <Th>Output</Th>
              <Th className="text-right">Steps</Th>
              <Th className="text-right">Revision</Th>
              <Th>Changed</Th>
            </tr>
          </thead>
          <tbody>
            {recipes.map((recipe) => (
              <Tr key={recipe.id}>
                <Td>
                  <Link href={`/recipes/${recipe.id}`} className="font-medium">
                    {recipe.name}
                  </Link>
                </Td>
                <Td>{recipe.projectName}</Td>
                <Td>
                  <Link href={`/images/${recipe.baseImage}`}>{recipe.baseImage}</Link>{" "}
                  <span className="text-muted">{recipe.baseRef}</span>
                </Td>
                <Td>
                  <Link href={`/images/${recipe.outputImage}`}>{recipe.outputImage}</Link>
                </Td>
                <Td className="text-right">{recipe.stepCount}</Td>
                <Td className="text-right">{recipe.latestRevision}</Td>
                <Td>
                  <RelativeTime date={recipe.updatedAt} />
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      )}
    </div>
  );
}
