"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { createApiTokenAction, revokeApiTokenAction } from "./token-actions";

async function revalidated<T extends { ok: boolean }>(result: Promise<T>): Promise<T> {
  const done = await result;
  if (done.ok) revalidatePath("/", "layout");
  return done;
}

export async function createApiTokenServerAction(input: unknown) {
  return revalidated(createApiTokenAction(await getViewer(), input));
}

export async function revokeApiTokenServerAction(input: unknown) {
  return revalidated(revokeApiTokenAction(await getViewer(), input));
}
