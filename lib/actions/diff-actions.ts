// Version diffs as actions: the file-level comparison is a queued job (lib/content/file-diff.ts);
// who may see which versions is decided in db/queries/version-diffs.ts through access.ts.
import { cancelFileDiff, finishFileDiff, requestFileDiff } from "@/db/queries/version-diffs";
import { enqueue } from "@/lib/jobs/queue";
import { cancelFileDiffSchema, requestFileDiffSchema } from "@/lib/validations/diffs";
import { defineAction } from "./safe-action";

/** Compares the files of two versions the caller sees: a new job, or the comparison already made or under way. */
export const requestFileDiffAction = defineAction(requestFileDiffSchema, async (input, viewer) => {
  const request = await requestFileDiff({ viewer, ...input });
  if (request.queue) {
    try {
      await enqueue("content.diff", { diffId: request.diffId });
    } catch (error) {
      await finishFileDiff(request.diffId, {
        status: "failed",
        failureReason: "The comparison could not be queued; try again.",
      });
      throw error;
    }
  }
  return { diffId: request.diffId, status: request.status, queued: request.queue };
});

export const cancelFileDiffAction = defineAction(cancelFileDiffSchema, async (input, viewer) =>
  cancelFileDiff({ viewer, diffId: input.diffId }),
);
