// Content inspection as actions. Who may ask is decided by db/queries/access.ts (project members
// who may contribute, and admins); the request itself is idempotent (db/queries/content-scans.ts).
import { findVersionForRescan, getContentScan } from "@/db/queries/content-scans";
import { requireOnImage } from "@/db/queries/access";
import { requestAndSendContentScan } from "@/lib/content/requests";
import { HangarError } from "@/lib/errors";
import { rescanVersionSchema } from "@/lib/validations/content";
import { defineAction } from "./safe-action";

/** "Inspect again": a version's content read anew after a failed or cancelled scan (or a first time). */
export const rescanVersionAction = defineAction(rescanVersionSchema, async (input, viewer) => {
  const version = await findVersionForRescan({ viewer, versionId: input.versionId });
  requireOnImage(
    viewer,
    version && { projectId: version.projectId, visible: version.visible },
    "contribute",
    "inspect a version's content again",
  );
  if (!version!.ready || !version!.sha256)
    throw new HangarError("conflict", "This version's file is not ready yet; its content is read once it is.");
  const sha256 = version!.sha256;
  if (await requestAndSendContentScan(sha256))
    return { imageSlug: version!.imageSlug, sha256, status: "queued" as const };
  const scan = await getContentScan(sha256);
  throw new HangarError(
    "conflict",
    scan?.status === "succeeded"
      ? "This version's content was already read; the same bytes give the same result. Nothing was changed."
      : "This version's content is already being read. Nothing was changed.",
  );
});
