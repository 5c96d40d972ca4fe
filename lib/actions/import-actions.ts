import { requireInProject } from "@/db/queries/access";
import { recordAudit } from "@/db/queries/audit";
import { createImageWithUniqueSlug } from "@/db/queries/images";
import { createImportVersion } from "@/db/queries/uploads";
import { getDownloadableVersion, requestConversion } from "@/db/queries/versions";
import { HangarError } from "@/lib/errors";
import { checkUrl, UrlRefused } from "@/lib/imports/url-fetch";
import { urlPolicyFromEnv } from "@/lib/imports/url-import";
import { enqueue } from "@/lib/jobs/queue";
import { requestConversionSchema } from "@/lib/validations/conversions";
import { createImageForImportSchema, startUrlImportSchema } from "@/lib/validations/imports";
import { defineAction } from "./safe-action";

export const createImageForImportAction = defineAction(createImageForImportSchema, async (input, viewer) => {
  requireInProject(viewer, input.projectId, "contribute", "create images in it");
  const image = await createImageWithUniqueSlug({ actorId: viewer.id, values: input });
  return { id: image.id, slug: image.slug };
});

export const startUrlImportAction = defineAction(startUrlImportSchema, async (input, viewer) => {
  const policy = urlPolicyFromEnv();
  try {
    await checkUrl(input.url, policy);
  } catch (error) {
    if (error instanceof UrlRefused) throw new HangarError("invalid", error.userMessage, { url: [error.userMessage] });
    throw error;
  }
  const created = await createImportVersion({
    viewer,
    imageId: input.imageId,
    version: input.version,
    source: "url",
    declaredLength: null,
    claimedFormat: input.format === "detect" ? null : input.format,
    expectedSha256: input.sha256 || null,
    filename: new URL(input.url).pathname.split("/").pop() ?? "",
    sourceUrl: input.url,
  });
  await enqueue("image.import-url", {
    versionId: created.versionId,
    url: input.url,
    claimedFormat: input.format === "detect" ? null : input.format,
    expectedSha256: input.sha256 || null,
    actorId: viewer.id,
  });
  return { versionId: created.versionId, slugs: [created.imageSlug] };
});

export const requestConversionAction = defineAction(requestConversionSchema, async ({ versionId, format }, viewer) => {
  const version = await getDownloadableVersion({ viewer, versionId });
  if (!version) throw new HangarError("not_found", "That version doesn't exist, isn't ready, or you can't see it.");
  if (version.format === format && !version.linked)
    throw new HangarError("invalid", `This version is already ${format}; download it as it is.`);
  const conversion = await requestConversion({ versionId, targetFormat: format, requestedById: viewer.id });
  if (conversion.queued) {
    await recordAudit({
      actorId: viewer.id,
      action: "version.convert",
      objectType: "version",
      objectId: versionId,
      after: { format, conversionId: conversion.id },
    });
    await enqueue("image.convert", { conversionId: conversion.id });
  }
  return { conversionId: conversion.id, slugs: [version.imageSlug] };
});
