"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import * as accountActions from "./account-actions";

const refreshed = async <T extends { ok: boolean }>(result: Promise<T>) => {
  const value = await result;
  if (value.ok) revalidatePath("/admin/users");
  return value;
};

export async function inviteUserServerAction(input: unknown) {
  return refreshed(accountActions.inviteUserAction(await getViewer(), input));
}

export async function setUserRoleServerAction(input: unknown) {
  return refreshed(accountActions.setUserRoleAction(await getViewer(), input));
}

export async function setUserDisabledServerAction(input: unknown) {
  return refreshed(accountActions.setUserDisabledAction(await getViewer(), input));
}

export async function resetUserPasswordServerAction(input: unknown) {
  return refreshed(accountActions.resetUserPasswordAction(await getViewer(), input));
}

export async function changeOwnPasswordServerAction(input: unknown) {
  return accountActions.changeOwnPasswordAction(await getViewer(), input);
}

export async function setPasswordWithLinkServerAction(input: unknown) {
  return accountActions.setPasswordWithLinkAction(input);
}
