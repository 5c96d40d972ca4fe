"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { cloneVersionAction } from "./clone-actions";

export async function cloneVersionServerAction(input: unknown) {
  const result = await cloneVersionAction(await getViewer(), input);
  if (result.ok) {
    revalidatePath("/projects", "layout");
    revalidatePath("/images", "layout");
    // The catalog is the app's root page.
    revalidatePath("/");
  }
  return result;
}
