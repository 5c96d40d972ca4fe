"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as recipeActions from "./recipe-actions";

export async function saveRecipeServerAction(input: unknown) {
  const result = await recipeActions.saveRecipeAction(await getViewer(), input);
  if (result.ok) revalidatePath("/recipes");
  return result;
}

export async function startBuildServerAction(input: unknown) {
  const result = await recipeActions.startBuildAction(await getViewer(), input);
  if (result.ok) revalidatePath("/builds");
  return result;
}

export async function cancelBuildServerAction(input: unknown) {
  return recipeActions.cancelBuildAction(await getViewer(), input);
}

export async function retryBuildServerAction(input: unknown) {
  const result = await recipeActions.retryBuildAction(await getViewer(), input);
  if (result.ok) revalidatePath("/builds");
  return result;
}

export async function rebuildServerAction(input: unknown) {
  const result = await recipeActions.rebuildAction(await getViewer(), input);
  if (result.ok) revalidatePath("/builds");
  return result;
}
