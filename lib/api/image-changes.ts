// The /api/v1 changes to images, channels and versions: each the same (viewer, input) action the web
// UI calls, with images and projects named by slug. A PATCH is several actions; every part is
// checked with its action's schema before the first one runs, and the part that needs the most
// (visibility, owners only) runs first, so a refusal changes nothing.
import type { z } from "zod";
import { getImageBySlug, MAX_TAGS_PER_IMAGE } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { getConversion, getVersionDetail } from "@/db/queries/versions";
import { moveChannelAction } from "@/lib/actions/channel-actions";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import {
  changeTagAction,
  removePropertyAction,
  setPropertyAction,
  setVisibilityAction,
  updateImageDetailsAction,
} from "@/lib/actions/image-actions";
import { createImageForImportAction, requestConversionAction } from "@/lib/actions/import-actions";
import { HangarError } from "@/lib/errors";
import { checkInput } from "@/lib/validations/check";
import { moveChannelSchema } from "@/lib/validations/channels";
import { cloneVersionSchema } from "@/lib/validations/clones";
import {
  changeTagSchema,
  MAX_PROPERTIES,
  removePropertySchema,
  setPropertySchema,
  setVisibilitySchema,
  updateImageDetailsSchema,
} from "@/lib/validations/images";
import { channelLookup } from "./channel-lookup";
import { getCloneObject, getImageObject, projectIdOf } from "./images";
import {
  cloneBodySchema,
  conversionBodySchema,
  createImageBodySchema,
  moveChannelBodySchema,
  patchImageBodySchema,
} from "./openapi/images";
import { unwrap } from "./route";

/** Checks input with a schema (an action's, or a body's), naming the failing fields under `prefix`. */
function check<Schema extends z.ZodType>(schema: Schema, input: unknown, prefix = ""): z.output<Schema> {
  const checked = checkInput(schema, input);
  if (checked.ok) return checked.data;
  const fields = Object.fromEntries(
    Object.entries(checked.fieldErrors).map(([key, messages]) => [prefix ? `${prefix}.${key}` : key, messages]),
  );
  throw new HangarError("invalid", checked.message, fields);
}

const imageNotFound = (slug: string) =>
  new HangarError("not_found", `There is no image ${slug} that this caller can see. Nothing was changed.`);

export async function createImageFromApi(viewer: Viewer, body: unknown) {
  // The fields first, so a bad body is answered the same whether or not the project exists.
  const { project, ...rest } = check(createImageBodySchema, body);
  const projectId = await projectIdOf(viewer, project);
  const created = unwrap(await createImageForImportAction(viewer, { ...rest, projectId }));
  return getImageObject(viewer, created.slug);
}

export async function updateImageFromApi(viewer: Viewer, slug: string, raw: unknown) {
  const body = check(patchImageBodySchema, raw);
  const image = await getImageBySlug({ viewer, slug });
  if (!image) throw imageNotFound(slug);
  const imageId = image.id;
  const details = ["name", "description", "os", "osVersion", "arch"] as const;
  const detailsChange = details.some((key) => body[key] !== undefined)
    ? {
        imageId,
        name: body.name ?? image.name,
        description: body.description ?? image.description,
        os: body.os ?? image.os,
        osVersion: body.osVersion ?? image.osVersion,
        arch: body.arch ?? image.arch,
      }
    : null;
  const addTags = [...new Set(body.addTags ?? [])];
  const removeTags = [...new Set(body.removeTags ?? [])];
  const setProperties = Object.entries(body.setProperties ?? {});
  const removeProperties = [...new Set(body.removeProperties ?? [])];

  // Everything is checked before anything changes.
  if (detailsChange) check(updateImageDetailsSchema, detailsChange);
  if (body.visibility !== undefined) check(setVisibilitySchema, { imageId, visibility: body.visibility });
  addTags.forEach((tag, index) => check(changeTagSchema, { imageIds: [imageId], tag, op: "add" }, `addTags.${index}`));
  removeTags.forEach((tag, index) =>
    check(changeTagSchema, { imageIds: [imageId], tag, op: "remove" }, `removeTags.${index}`),
  );
  for (const [key, value] of setProperties) check(setPropertySchema, { imageId, key, value }, `setProperties.${key}`);
  removeProperties.forEach((key, index) => check(removePropertySchema, { imageId, key }, `removeProperties.${index}`));
  const both = addTags.filter((tag) => removeTags.includes(tag));
  if (both.length)
    throw new HangarError("invalid", `Add or remove a tag, not both: ${both.join(", ")}.`, {
      addTags: [`Also in removeTags: ${both.join(", ")}.`],
    });
  const tagsAfter = new Set(image.tags.filter((tag) => !removeTags.includes(tag)).concat(addTags));
  if (tagsAfter.size > MAX_TAGS_PER_IMAGE && addTags.some((tag) => !image.tags.includes(tag)))
    throw new HangarError("invalid", `An image has at most ${MAX_TAGS_PER_IMAGE} tags; remove some first.`, {
      addTags: [`At most ${MAX_TAGS_PER_IMAGE} tags in all.`],
    });
  const propertiesAfter = new Set(
    Object.keys(image.properties)
      .filter((key) => !removeProperties.includes(key))
      .concat(setProperties.map(([key]) => key)),
  );
  if (propertiesAfter.size > MAX_PROPERTIES && setProperties.some(([key]) => !(key in image.properties)))
    throw new HangarError("invalid", `An image has at most ${MAX_PROPERTIES} properties; remove some first.`, {
      setProperties: [`At most ${MAX_PROPERTIES} properties in all.`],
    });

  if (body.visibility !== undefined && body.visibility !== image.visibility)
    unwrap(await setVisibilityAction(viewer, { imageId, visibility: body.visibility }));
  if (detailsChange) unwrap(await updateImageDetailsAction(viewer, detailsChange));
  for (const tag of removeTags) unwrap(await changeTagAction(viewer, { imageIds: [imageId], tag, op: "remove" }));
  for (const tag of addTags) unwrap(await changeTagAction(viewer, { imageIds: [imageId], tag, op: "add" }));
  for (const key of removeProperties) unwrap(await removePropertyAction(viewer, { imageId, key }));
  for (const [key, value] of setProperties) unwrap(await setPropertyAction(viewer, { imageId, key, value }));
  return getImageObject(viewer, image.slug);
}

export async function moveChannelFromApi(
  viewer: Viewer,
  { slug, channel, body: raw }: { slug: string; channel: string; body: unknown },
) {
  const body = check(moveChannelBodySchema, raw);
  const image = await getImageBySlug({ viewer, slug });
  if (!image) throw imageNotFound(slug);
  let versionId = body.versionId;
  if (versionId === undefined) {
    const version = await getVersionDetail({ viewer, imageSlug: slug, version: body.version! });
    if (!version)
      throw new HangarError("invalid", `${slug} has no version ${body.version} that this caller can see.`, {
        version: ["Not a version of this image."],
      });
    versionId = version.id;
  }
  check(moveChannelSchema, { imageId: image.id, name: channel, versionId });
  unwrap(await moveChannelAction(viewer, { imageId: image.id, name: channel, versionId }));
  return channelLookup({ viewer, imageSlug: slug, channel });
}

export async function requestConversionFromApi(viewer: Viewer, versionId: string, raw: unknown) {
  const body = check(conversionBodySchema, raw);
  unwrap(await requestConversionAction(viewer, { versionId, format: body.format }));
  const conversion = await getConversion({ versionId, targetFormat: body.format });
  return { format: body.format, status: conversion?.status ?? "queued" };
}

export async function cloneVersionFromApi(viewer: Viewer, versionId: string, raw: unknown) {
  const { project, image, ...rest } = check(cloneBodySchema, raw);
  const projectId = await projectIdOf(viewer, project);
  let imageId: string | undefined;
  if (image !== undefined) {
    const target = await getImageBySlug({ viewer, slug: image });
    if (!target || target.projectId !== projectId)
      throw new HangarError("invalid", `${project} has no image ${image} that this caller can see.`, {
        image: ["Not an image of that project."],
      });
    imageId = target.id;
  }
  const input = { ...rest, versionId, projectId, imageId };
  check(cloneVersionSchema, input);
  const { cloneId } = unwrap(await cloneVersionAction(viewer, input));
  return getCloneObject(viewer, cloneId);
}
