"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as importActions from "./import-actions";

export async function createImageForImportServerAction(input: unknown) {
  const result = await importActions.createImageForImportAction(await getViewer(), input);
  if (result.ok) revalidatePath("/");
  return result;
}

export async function startUrlImportServerAction(input: unknown) {
  const result = await importActions.startUrlImportAction(await getViewer(), input);
  if (result.ok) for (const slug of result.data.slugs) revalidatePath(`/images/${slug}`);
  return result;
}

export async function requestConversionServerAction(input: unknown) {
  return importActions.requestConversionAction(await getViewer(), input);
}
