// Boot tests as actions: who may ask for one, cancel it or change an image's boot settings is
// decided in db/queries/boot-tests.ts through access.ts; the job itself is lib/content/boot-test.ts.
import { cancelBootTest, requestBootTest, updateBootSettings } from "@/db/queries/boot-tests";
import { env } from "@/lib/env";
import { enqueue } from "@/lib/jobs/queue";
import { cancelBootTestSchema, requestBootTestSchema, updateBootSettingsSchema } from "@/lib/validations/boot-tests";
import { defineAction } from "./safe-action";

export const requestBootTestAction = defineAction(requestBootTestSchema, async ({ versionId }, viewer) => {
  const queued = await requestBootTest({
    viewer,
    versionId,
    timeoutSeconds: Math.round(env().HANGAR_BOOT_TEST_TIMEOUT / 1000),
  });
  if (queued.created) await enqueue("image.boot-test", { bootTestId: queued.bootTestId });
  return queued;
});

export const cancelBootTestAction = defineAction(cancelBootTestSchema, async ({ bootTestId }, viewer) =>
  cancelBootTest({ viewer, bootTestId }),
);

export const updateBootSettingsAction = defineAction(updateBootSettingsSchema, async (input, viewer) =>
  updateBootSettings({ viewer, imageId: input.imageId, required: input.required, marker: input.marker }),
);
