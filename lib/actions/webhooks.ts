"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import {
  createWebhookAction,
  deleteWebhookAction,
  redeliverWebhookAction,
  sendWebhookTestAction,
  updateWebhookAction,
} from "./webhook-actions";

async function revalidated<T extends { ok: boolean }>(result: Promise<T>): Promise<T> {
  const done = await result;
  if (done.ok) revalidatePath("/", "layout");
  return done;
}

export async function createWebhookServerAction(input: unknown) {
  return revalidated(createWebhookAction(await getViewer(), input));
}

export async function updateWebhookServerAction(input: unknown) {
  return revalidated(updateWebhookAction(await getViewer(), input));
}

export async function deleteWebhookServerAction(input: unknown) {
  return revalidated(deleteWebhookAction(await getViewer(), input));
}

export async function redeliverWebhookServerAction(input: unknown) {
  return revalidated(redeliverWebhookAction(await getViewer(), input));
}

export async function sendWebhookTestServerAction(input: unknown) {
  return revalidated(sendWebhookTestAction(await getViewer(), input));
}
