"use server";
// TEMPORARY: replaced by the file-diff branch at merge

import type { ActionResult } from "./safe-action";

/** Queues a file diff of two versions (the real action checks both through access.ts and enqueues content.diff). */
export async function requestFileDiffServerAction(input: {
  fromVersionId: string;
  toVersionId: string;
}): Promise<ActionResult<{ diffId: string }>> {
  void input;
  return {
    ok: false,
    code: "refused",
    message: "Comparing files is not available in this build yet. Nothing was changed.",
  };
}
