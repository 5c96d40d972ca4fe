"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as importActions from "./import-actions";

export async function createImageForImportAction(input: unknown) {
  const result = await importActions.createImageForImport(await getViewer(), input);
  if (result.ok) revalidatePath("/");
  return result;
}

export async function startUrlImportAction(input: unknown) {
  const result = await importActions.startUrlImport(await getViewer(), input);
  if (result.ok) for (const slug of result.data.slugs) revalidatePath(`/images/${slug}`);
  return result;
}

export async function requestConversionAction(input: unknown) {
  return importActions.requestVersionConversion(await getViewer(), input);
}
