"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as imageActions from "./image-actions";
import type { ActionResult } from "./safe-action";

function revalidateImages<T extends { slugs: string[] }>(result: ActionResult<T>): ActionResult<T> {
  if (result.ok) {
    for (const slug of result.data.slugs) revalidatePath(`/images/${slug}`);
    revalidatePath("/");
  }
  return result;
}

export async function changeTagAction(input: unknown) {
  return revalidateImages(await imageActions.changeTag(await getViewer(), input));
}

export async function updateImageDetailsAction(input: unknown) {
  return revalidateImages(await imageActions.updateImageDetails(await getViewer(), input));
}

export async function setVisibilityAction(input: unknown) {
  return revalidateImages(await imageActions.setVisibility(await getViewer(), input));
}

export async function setPropertyAction(input: unknown) {
  return revalidateImages(await imageActions.setProperty(await getViewer(), input));
}

export async function removePropertyAction(input: unknown) {
  return revalidateImages(await imageActions.removeProperty(await getViewer(), input));
}
