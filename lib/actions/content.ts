"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { rescanVersionAction } from "./content-actions";

export async function rescanVersionServerAction(input: unknown) {
  const result = await rescanVersionAction(await getViewer(), input);
  if (result.ok) revalidatePath(`/images/${result.data.imageSlug}`, "layout");
  return result;
}
