// Clones as actions: every rule (who may clone where, what may be cloned, quotas) is enforced in
// db/queries/clones.ts and access.ts.
import { requestClone } from "@/db/queries/clones";
import { defaultResetOperations } from "@/db/enums";
import { HangarError } from "@/lib/errors";
import { runClone } from "@/lib/clones/engine";
import { enqueue } from "@/lib/jobs/queue";
import { cloneVersionSchema } from "@/lib/validations/clones";
import { defineAction } from "./safe-action";

export const cloneVersionAction = defineAction(cloneVersionSchema, async (input, viewer) => {
  const resetOperations = input.resetIdentity
    ? input.resetOperations?.length
      ? input.resetOperations
      : defaultResetOperations
    : [];
  const clone = await requestClone({
    viewer,
    sourceVersionId: input.versionId,
    target: {
      projectId: input.projectId,
      imageId: input.imageId,
      newImage: input.newImageSlug
        ? { slug: input.newImageSlug, name: input.newImageName ?? input.newImageSlug }
        : undefined,
      version: input.version,
    },
    mode: input.mode,
    resetOperations,
  });
  if (clone.queue) {
    await enqueue("image.clone", { cloneId: clone.cloneId });
  } else {
    // Nothing to wait for (an overlay, or the source's own bytes): made now, and a refusal at the
    // end (the quota filled meanwhile, the name was taken) is this call's answer.
    const outcome = await runClone({ cloneId: clone.cloneId });
    if (outcome.status === "failed") throw new HangarError("conflict", outcome.reason);
  }
  return { cloneId: clone.cloneId, queued: clone.queue };
});
