"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as shareActions from "./share-actions";

const refreshed = async <T extends { ok: boolean }>(result: Promise<T>) => {
  const value = await result;
  if (value.ok) {
    revalidatePath("/projects", "layout");
    revalidatePath("/images", "layout");
    // The catalog is the app's root page: an accepted share adds images to it.
    revalidatePath("/");
  }
  return value;
};

export async function offerShareServerAction(input: unknown) {
  return refreshed(shareActions.offerShareAction(await getViewer(), input));
}

export async function answerShareServerAction(input: unknown) {
  return refreshed(shareActions.answerShareAction(await getViewer(), input));
}

export async function withdrawShareServerAction(input: unknown) {
  return refreshed(shareActions.withdrawShareAction(await getViewer(), input));
}
