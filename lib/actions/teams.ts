"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as teamActions from "./team-actions";

const refreshed = async <T extends { ok: boolean }>(result: Promise<T>) => {
  const value = await result;
  if (value.ok) {
    revalidatePath("/projects", "layout");
    revalidatePath("/images", "layout");
    revalidatePath("/catalog");
  }
  return value;
};

export async function cloneVersionServerAction(input: unknown) {
  return refreshed(teamActions.cloneVersionAction(await getViewer(), input));
}

export async function offerShareServerAction(input: unknown) {
  return refreshed(teamActions.offerShareAction(await getViewer(), input));
}

export async function answerShareServerAction(input: unknown) {
  return refreshed(teamActions.answerShareAction(await getViewer(), input));
}

export async function withdrawShareServerAction(input: unknown) {
  return refreshed(teamActions.withdrawShareAction(await getViewer(), input));
}
