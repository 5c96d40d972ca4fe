"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as retentionActions from "./retention-actions";

export async function setRetentionRuleServerAction(input: unknown) {
  const result = await retentionActions.setRetentionRuleAction(await getViewer(), input);
  if (result.ok) revalidatePath("/images/[slug]", "page");
  return result;
}

export async function previewRetentionServerAction(input: unknown) {
  return retentionActions.previewRetentionAction(await getViewer(), input);
}

export async function runRetentionServerAction(input: unknown) {
  const result = await retentionActions.runRetentionAction(await getViewer(), input);
  // Deprecations and deletions show everywhere versions are listed.
  if (result.ok) revalidatePath("/", "layout");
  return result;
}
