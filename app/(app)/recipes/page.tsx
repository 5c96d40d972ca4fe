import type { Metadata } from "next";
import { Notice } from "@/components/shell/notice";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Recipes" };

export default async function RecipesPage() {
  await requireViewer("/recipes");
  return (
    <Notice title="Recipes">
      <p>
        Here you will write customization recipes on top of a base image (install packages, write files, inject SSH keys…) and launch
        builds from them.
      </p>
    </Notice>
  );
}
