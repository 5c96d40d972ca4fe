"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as projectActions from "./project-actions";

const refreshed = async <T extends { ok: boolean }>(result: Promise<T>) => {
  const value = await result;
  if (value.ok) revalidatePath("/projects", "layout");
  return value;
};

export async function createProjectServerAction(input: unknown) {
  return refreshed(projectActions.createProjectAction(await getViewer(), input));
}

export async function setMemberServerAction(input: unknown) {
  return refreshed(projectActions.setMemberAction(await getViewer(), input));
}

export async function cancelInvitationServerAction(input: unknown) {
  return refreshed(projectActions.cancelInvitationAction(await getViewer(), input));
}

export async function removeMemberServerAction(input: unknown) {
  return refreshed(projectActions.removeMemberAction(await getViewer(), input));
}

export async function setQuotaServerAction(input: unknown) {
  return refreshed(projectActions.setQuotaAction(await getViewer(), input));
}
