// Release changes as an action: (caller, raw input) → result. Who may do what, the four-eyes rule
// and legal transitions are all checked in db/queries/releases.ts, never only in the page.
import { changeReleaseStatus, deleteVersion } from "@/db/queries/releases";
import { changeReleaseSchema, deleteVersionSchema } from "@/lib/validations/releases";
import { queueReleaseEvent, queueWebhookEvent } from "@/lib/webhooks/events";
import { defineAction } from "./safe-action";

export const changeReleaseAction = defineAction(changeReleaseSchema, async (input, viewer) => {
  const result = await changeReleaseStatus({ viewer, change: input });
  if (!result.scheduledFor)
    await queueReleaseEvent({ versionId: input.versionId, actorId: viewer.id, extra: { action: input.action } });
  return result;
});

export const deleteVersionAction = defineAction(deleteVersionSchema, async (input, viewer) => {
  const deleted = await deleteVersion({ viewer, versionId: input.versionId });
  void queueWebhookEvent({
    type: "version.deleted",
    projectId: deleted.projectId,
    actorId: viewer.id,
    object: {
      imageId: deleted.imageId,
      versionId: input.versionId,
      version: deleted.version,
      releaseStatus: deleted.releaseStatus,
    },
  });
});
