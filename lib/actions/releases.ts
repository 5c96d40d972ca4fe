"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as releaseActions from "./release-actions";

export async function changeReleaseServerAction(input: unknown) {
  const result = await releaseActions.changeReleaseAction(await getViewer(), input);
  if (result.ok) {
    revalidatePath("/reviews");
    revalidatePath("/", "layout");
  }
  return result;
}

export async function deleteVersionServerAction(input: unknown) {
  const result = await releaseActions.deleteVersionAction(await getViewer(), input);
  if (result.ok) revalidatePath("/", "layout");
  return result;
}
