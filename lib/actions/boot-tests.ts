"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { cancelBootTestAction, requestBootTestAction, updateBootSettingsAction } from "./boot-test-actions";

export async function requestBootTestServerAction(input: unknown) {
  const result = await requestBootTestAction(await getViewer(), input);
  if (result.ok) {
    revalidatePath("/images", "layout");
    revalidatePath("/reviews");
  }
  return result;
}

export async function cancelBootTestServerAction(input: unknown) {
  const result = await cancelBootTestAction(await getViewer(), input);
  if (result.ok) {
    revalidatePath("/images", "layout");
    revalidatePath("/reviews");
  }
  return result;
}

export async function updateBootSettingsServerAction(input: unknown) {
  const result = await updateBootSettingsAction(await getViewer(), input);
  if (result.ok) {
    revalidatePath("/images", "layout");
    revalidatePath("/reviews");
  }
  return result;
}
