// Automatic boot tests: after every successful build, and after an upload whose disk has something
// to boot (boot code in its first sector or an EFI system partition; a data disk is not queued).
// Queueing never fails what triggered it: a problem is logged and the version stays as it is.
import { createBootTest, type BootTrigger } from "@/db/queries/boot-tests";
import { env } from "@/lib/env";
import type { Bootability } from "./boot-sectors";

/** Records a boot test of a ready version and queues its job; returns its id, or null when one was already waiting. */
export async function queueBootTest({
  versionId,
  trigger,
  requestedById = null,
}: {
  versionId: string;
  trigger: BootTrigger;
  requestedById?: string | null;
}): Promise<string | null> {
  const queued = await createBootTest({
    versionId,
    trigger,
    requestedById,
    timeoutSeconds: Math.round(env().HANGAR_BOOT_TEST_TIMEOUT / 1000),
  });
  if (!queued.created) return null;
  // Loaded here: the queue's module loads the worker's sweeper, which loads the engines that call this.
  const { enqueue } = await import("@/lib/jobs/queue");
  await enqueue("image.boot-test", { bootTestId: queued.bootTestId });
  return queued.bootTestId;
}

/** After a build landed its version: always test it (the job says "not bootable" quickly when so). */
export async function queueBootTestAfterBuild(versionId: string, requestedById: string | null): Promise<void> {
  try {
    await queueBootTest({ versionId, trigger: "build", requestedById });
  } catch (error) {
    console.error(`could not queue a boot test of built version ${versionId}`, error);
  }
}

/**
 * After an upload: test it only when its first sectors showed a bootloader (a cheap read, no
 * appliance), read by the caller from the bytes it received before storing them: from a bucket, a
 * read of the stored blob would fetch all of it.
 */
export async function queueBootTestAfterUpload({
  versionId,
  bootable,
  actorId,
}: {
  versionId: string;
  bootable: Bootability;
  actorId: string | null;
}): Promise<boolean> {
  try {
    if (!bootable.bootable) return false;
    return (await queueBootTest({ versionId, trigger: "upload", requestedById: actorId })) !== null;
  } catch (error) {
    console.error(`could not queue a boot test of uploaded version ${versionId}`, error);
    return false;
  }
}
