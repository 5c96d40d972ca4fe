"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { unlockSignInAction } from "./sign-in-lock-actions";

export async function unlockSignInServerAction(input: unknown) {
  const result = await unlockSignInAction(await getViewer(), input);
  if (result.ok) revalidatePath("/admin", "layout");
  return result;
}
