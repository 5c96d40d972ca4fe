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

export async function changeTagServerAction(input: unknown) {
  return revalidateImages(await imageActions.changeTagAction(await getViewer(), input));
}

export async function updateImageDetailsServerAction(input: unknown) {
  return revalidateImages(await imageActions.updateImageDetailsAction(await getViewer(), input));
}

export async function setVisibilityServerAction(input: unknown) {
  return revalidateImages(await imageActions.setVisibilityAction(await getViewer(), input));
}

export async function setPropertyServerAction(input: unknown) {
  return revalidateImages(await imageActions.setPropertyAction(await getViewer(), input));
}

export async function removePropertyServerAction(input: unknown) {
  return revalidateImages(await imageActions.removePropertyAction(await getViewer(), input));
}
