import {
  changeImageTag,
  countTooManyTags,
  getImageProperties,
  listImageSlugs,
  MAX_TAGS_PER_IMAGE,
  updateImageFields,
} from "@/db/queries/images";
import { HangarError } from "@/lib/errors";
import {
  changeTagSchema,
  MAX_PROPERTIES,
  removePropertySchema,
  setPropertySchema,
  setVisibilitySchema,
  updateImageDetailsSchema,
} from "@/lib/validations/images";
import { defineAction } from "./safe-action";

const slugsOf = (imageIds: string[]) => listImageSlugs({ imageIds });

export const changeTagAction = defineAction(changeTagSchema, async ({ imageIds, tag, op }, viewer) => {
  if (op === "add") {
    const full = await countTooManyTags({ viewer, imageIds, tag });
    if (full.length) {
      throw new HangarError(
        "invalid",
        `${full.join(", ")} already ${full.length > 1 ? "have" : "has"} ${MAX_TAGS_PER_IMAGE} tags; remove one first.`,
      );
    }
  }
  const { changed } = await changeImageTag({ viewer, imageIds, tag, op });
  return { changed, tag, slugs: await slugsOf(imageIds) };
});

export const updateImageDetailsAction = defineAction(
  updateImageDetailsSchema,
  async ({ imageId, ...fields }, viewer) => {
    await updateImageFields({ viewer, imageId, need: "contribute", action: "image.edit", fields });
    return { slugs: await slugsOf([imageId]) };
  },
);

export const setVisibilityAction = defineAction(setVisibilitySchema, async ({ imageId, visibility }, viewer) => {
  await updateImageFields({ viewer, imageId, need: "manage", action: "image.visibility", fields: { visibility } });
  return { visibility, slugs: await slugsOf([imageId]) };
});

export const setPropertyAction = defineAction(setPropertySchema, async ({ imageId, key, value }, viewer) => {
  const current = (await getImageProperties({ viewer, imageId })) ?? {};
  if (!(key in current) && Object.keys(current).length >= MAX_PROPERTIES) {
    throw new HangarError("invalid", `An image has at most ${MAX_PROPERTIES} properties; remove one first.`);
  }
  await updateImageFields({
    viewer,
    imageId,
    need: "contribute",
    action: "image.property_set",
    fields: { properties: { ...current, [key]: value } },
  });
  return { key, value, slugs: await slugsOf([imageId]) };
});

export const removePropertyAction = defineAction(removePropertySchema, async ({ imageId, key }, viewer) => {
  const current = (await getImageProperties({ viewer, imageId })) ?? {};
  const next = Object.fromEntries(Object.entries(current).filter(([name]) => name !== key));
  await updateImageFields({
    viewer,
    imageId,
    need: "contribute",
    action: "image.property_remove",
    fields: { properties: next },
  });
  return { key, slugs: await slugsOf([imageId]) };
});
