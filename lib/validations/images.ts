import { z } from "zod";
import { architectures, diskFormats, releaseStatuses, visibilities } from "@/db/enums";

export const TAG_MAX_LENGTH = 40;
export const PROPERTY_KEY_MAX_LENGTH = 64;
export const PROPERTY_VALUE_MAX_LENGTH = 512;
export const MAX_PROPERTIES = 64;
export const DESCRIPTION_MAX_LENGTH = 20_000;
export const BULK_MAX_IMAGES = 200;

export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "Enter a tag.")
  .max(TAG_MAX_LENGTH, `A tag is at most ${TAG_MAX_LENGTH} characters.`)
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    "A tag uses lowercase letters, digits, '.', '_' and '-', and starts with a letter or digit (for example lts or cis-hardened).",
  );

export const imageIdSchema = z.string().uuid("That image id is not valid.");

export const changeTagSchema = z.object({
  imageIds: z
    .array(imageIdSchema)
    .min(1, "Select at least one image.")
    .max(BULK_MAX_IMAGES, `Tag at most ${BULK_MAX_IMAGES} images at once.`)
    .transform((ids) => [...new Set(ids)]),
  tag: tagSchema,
  op: z.enum(["add", "remove"]),
});

export const propertyKeySchema = z
  .string()
  .trim()
  .min(1, "Enter a key.")
  .max(PROPERTY_KEY_MAX_LENGTH, `A key is at most ${PROPERTY_KEY_MAX_LENGTH} characters.`)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/,
    "A key uses letters, digits, '_', '.', ':' and '-' (for example hw_disk_bus).",
  );

export const setPropertySchema = z.object({
  imageId: imageIdSchema,
  key: propertyKeySchema,
  value: z
    .string()
    .trim()
    .max(PROPERTY_VALUE_MAX_LENGTH, `A value is at most ${PROPERTY_VALUE_MAX_LENGTH} characters.`),
});

export const removePropertySchema = z.object({ imageId: imageIdSchema, key: propertyKeySchema });

export const updateImageDetailsSchema = z.object({
  imageId: imageIdSchema,
  name: z.string().trim().min(1, "Enter a name.").max(120, "A name is at most 120 characters."),
  description: z.string().max(DESCRIPTION_MAX_LENGTH, `A description is at most ${DESCRIPTION_MAX_LENGTH} characters.`),
  os: z.string().trim().min(1, "Enter the operating system.").max(60, "At most 60 characters."),
  osVersion: z.string().trim().max(40, "At most 40 characters."),
  arch: z.enum(architectures, { message: `Choose one of: ${architectures.join(", ")}.` }),
});

export const setVisibilitySchema = z.object({
  imageId: imageIdSchema,
  visibility: z.enum(visibilities, { message: `Visibility is one of: ${visibilities.join(", ")}.` }),
});

const emptyToUndefined = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

// The catalog's URL is its state: parse it strictly, but report rather than crash on bad values.
export const catalogSearchSchema = z.object({
  q: z.preprocess(emptyToUndefined, z.string().trim().max(200, "Search text is at most 200 characters.").optional()),
  os: z.preprocess(emptyToUndefined, z.string().max(60).optional()),
  arch: z.preprocess(
    emptyToUndefined,
    z.enum(architectures, { message: `Architecture is one of: ${architectures.join(", ")}.` }).optional(),
  ),
  format: z.preprocess(
    emptyToUndefined,
    z.enum(diskFormats, { message: `Format is one of: ${diskFormats.join(", ")}.` }).optional(),
  ),
  tag: z.preprocess(emptyToUndefined, tagSchema.optional()),
  project: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .max(80)
      .regex(/^[a-z0-9-]+$/, "Project is a project slug.")
      .optional(),
  ),
  status: z.preprocess(
    emptyToUndefined,
    z.enum(releaseStatuses, { message: `Status is one of: ${releaseStatuses.join(", ")}.` }).optional(),
  ),
  freshness: z.preprocess(
    emptyToUndefined,
    z.enum(["out_of_date"], { message: "Freshness can only be out_of_date." }).optional(),
  ),
  /** Detected facts from content scans: the distribution id (debian, ubuntu …) and architecture. */
  distro: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .max(60)
      .regex(/^[A-Za-z0-9._-]+$/, "Detected OS is a distribution id such as debian.")
      .optional(),
  ),
  detectedArch: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .max(30)
      .regex(/^[A-Za-z0-9_-]+$/, "Detected architecture is a name such as x86_64.")
      .optional(),
  ),
  /** "Contains package": a package condition (openssl < 3.0.14), parsed by the page so a bad one is reported next to its field. */
  contains: z.preprocess(
    emptyToUndefined,
    z.string().trim().max(200, "A package condition is at most 200 characters.").optional(),
  ),
  sort: z.preprocess(
    emptyToUndefined,
    z
      .enum(["name", "updated", "size", "usage"], { message: "Sort by name, updated, size or usage." })
      .default("updated"),
  ),
  order: z.preprocess(emptyToUndefined, z.enum(["asc", "desc"], { message: "Order is asc or desc." }).optional()),
  view: z.preprocess(
    emptyToUndefined,
    z.enum(["images", "versions"], { message: "View is images or versions." }).default("images"),
  ),
  cursor: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .max(400)
      .regex(/^[A-Za-z0-9_-]+$/, "That page link is broken.")
      .optional(),
  ),
});

export const catalogParamNames = Object.keys(catalogSearchSchema.shape) as (keyof typeof catalogSearchSchema.shape)[];

export type CatalogSearch = z.infer<typeof catalogSearchSchema>;
