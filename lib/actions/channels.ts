"use server";

import { revalidatePath } from "next/cache";
import { getViewer } from "@/lib/auth/session";
import { moveChannelAction } from "./channel-actions";

export async function moveChannelServerAction(input: unknown) {
  const result = await moveChannelAction(await getViewer(), input);
  if (result.ok) revalidatePath("/", "layout");
  return result;
}
