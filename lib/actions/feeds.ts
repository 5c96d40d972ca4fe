"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { createFeedAction, revokeFeedAction, setImagePublishingAction, setPublicFeedAction } from "./feed-actions";

async function revalidated<T extends { ok: boolean }>(result: Promise<T>): Promise<T> {
  const done = await result;
  if (done.ok) revalidatePath("/", "layout");
  return done;
}

export async function createFeedServerAction(input: unknown) {
  return revalidated(createFeedAction(await getViewer(), input));
}

export async function revokeFeedServerAction(input: unknown) {
  return revalidated(revokeFeedAction(await getViewer(), input));
}

export async function setPublicFeedServerAction(input: unknown) {
  return revalidated(setPublicFeedAction(await getViewer(), input));
}

export async function setImagePublishingServerAction(input: unknown) {
  return revalidated(setImagePublishingAction(await getViewer(), input));
}
