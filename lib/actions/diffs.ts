"use server";

import { getViewer } from "@/lib/auth/session";
import { cancelFileDiffAction, requestFileDiffAction } from "./diff-actions";

// Nothing cached changes: the diff page polls app/api/diffs/[id] for the job's progress.
export async function requestFileDiffServerAction(input: unknown) {
  return requestFileDiffAction(await getViewer(), input);
}

export async function cancelFileDiffServerAction(input: unknown) {
  return cancelFileDiffAction(await getViewer(), input);
}
