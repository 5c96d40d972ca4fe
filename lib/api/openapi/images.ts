// /api/v1 operations on images, versions, channels, projects and clones.
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import {
  architectures,
  bootTestResults,
  cloneModes,
  convertibleFormats,
  dataStatuses,
  diskFormats,
  projectRoles,
  releaseStatuses,
  versionSources,
  visibilities,
} from "@/db/enums";
import { cloneStatuses } from "@/db/schema";
import { moveChannelSchema } from "@/lib/validations/channels";
import { cloneVersionSchema } from "@/lib/validations/clones";
import { requestConversionSchema } from "@/lib/validations/conversions";
import {
  catalogSearchSchema,
  propertyKeySchema,
  setPropertySchema,
  setVisibilitySchema,
  tagSchema,
  updateImageDetailsSchema,
} from "@/lib/validations/images";
import { createImageForImportSchema, versionLabelSchema } from "@/lib/validations/imports";
import { errorResponses, jsonContent, jsonResponse, pageOf, pageQuerySchema } from "./common";

const slugParam = z.string().meta({ description: "The image's slug, as in its URL.", example: "debian-12-base" });
const versionIdParam = z.string().uuid().meta({ description: "The version's id." });

export const channelLookupSchema = z
  .object({
    image: z.object({
      slug: z.string(),
      name: z.string(),
      os: z.string(),
      osVersion: z.string(),
      arch: z.string(),
    }),
    channel: z.object({ name: z.string(), managed: z.boolean(), updatedAt: z.iso.datetime() }),
    version: z.object({
      id: z.string().uuid(),
      version: z.string(),
      format: z.enum(diskFormats),
      virtualSize: z.number().nullable(),
      fileSize: z.number().nullable(),
      sha256: z.string().nullable(),
      releaseStatus: z.enum(releaseStatuses),
      downloadUrl: z.url(),
    }),
  })
  .meta({ id: "ChannelLookup" });

// ── Objects ──────────────────────────────────────────────────────────────────────────────────

const projectSlug = z.string().trim().min(1, "Name the project by its slug.").max(80).meta({
  description: "A project's slug.",
  example: "platform",
});
const imageSlug = z.string().trim().min(1, "Name the image by its slug.").max(63).meta({
  description: "An image's slug.",
  example: "debian-12-base",
});

export const imageSummarySchema = z
  .object({
    id: z.string().uuid(),
    slug: z.string(),
    name: z.string(),
    project: z.object({ id: z.string().uuid(), slug: z.string(), name: z.string() }),
    os: z.string(),
    osVersion: z.string(),
    arch: z.enum(architectures),
    visibility: z.enum(visibilities),
    tags: z.array(z.string()),
    latestVersion: z
      .object({ id: z.string().uuid(), version: z.string() })
      .nullable()
      .meta({ description: "The newest version the caller sees (outside its project: the newest released one)." }),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "ImageSummary" });

export const channelSchema = z
  .object({
    name: z.string(),
    managed: z.boolean().meta({ description: "`latest` is managed: always the newest approved version." }),
    version: z.string().nullable(),
    versionId: z.string().uuid().nullable(),
    updatedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "Channel" });

export const imageSchema = imageSummarySchema
  .extend({
    description: z.string(),
    properties: z.record(z.string(), z.string()),
    channels: z.array(channelSchema),
  })
  .meta({ id: "Image" });

export const versionSchema = z
  .object({
    id: z.string().uuid(),
    image: z.object({ id: z.string().uuid(), slug: z.string(), name: z.string() }),
    version: z.string(),
    format: z.enum(diskFormats).nullable(),
    fileSize: z.number().nullable(),
    virtualSize: z.number().nullable(),
    sha256: z.string().nullable(),
    sha512: z
      .string()
      .nullable()
      .meta({ description: "Computed in the background after the file is stored; null until then." }),
    md5: z
      .string()
      .nullable()
      .meta({ description: "Computed in the background after the file is stored; null until then." }),
    dataStatus: z.enum(dataStatuses),
    releaseStatus: z.enum(releaseStatuses),
    source: z.enum(versionSources),
    createdAt: z.iso.datetime(),
    downloadUrl: z.url().meta({ description: "Absolute; answers once dataStatus is ready." }),
    inspection: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: "The format inspector's report, or null before the file was inspected." }),
    boot: z
      .object({ result: z.enum(bootTestResults), at: z.iso.datetime() })
      .nullable()
      .meta({ description: "The newest boot test that reached a verdict." }),
    failureReason: z.string().nullable(),
  })
  .meta({ id: "Version" });

export const projectSchema = z
  .object({
    id: z.string().uuid(),
    slug: z.string(),
    name: z.string(),
    role: z
      .enum(projectRoles)
      .nullable()
      .meta({ description: "The caller's role (as narrowed by the token); null for an admin who is not a member." }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "Project" });

export const memberSchema = z
  .object({ userId: z.string().uuid(), email: z.string(), name: z.string().nullable(), role: z.enum(projectRoles) })
  .meta({ id: "Member" });

const cloneEnd = z.object({
  versionId: z.string().uuid().nullable(),
  imageSlug: z.string().nullable(),
  version: z.string(),
});
export const cloneSchema = z
  .object({
    id: z.string().uuid(),
    source: cloneEnd,
    target: cloneEnd.meta({ description: "versionId is null until the clone succeeded." }),
    mode: z.enum(cloneModes),
    status: z.enum(cloneStatuses),
    failureReason: z.string().nullable(),
    project: z.object({ slug: z.string() }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "Clone" });

// ── Inputs: the actions' own schemas, with images and projects named by slug ────────────────

const catalogFilters = catalogSearchSchema.pick({
  q: true,
  os: true,
  arch: true,
  format: true,
  tag: true,
  project: true,
  status: true,
  freshness: true,
  distro: true,
  detectedArch: true,
  contains: true,
  sort: true,
  order: true,
});
export const imageListQuerySchema = catalogFilters.extend(pageQuerySchema.shape);

export const versionListQuerySchema = z
  .object({
    image: z
      .string()
      .regex(/^[a-z0-9-]{1,63}$/, "Image is an image slug, such as debian-12-base.")
      .optional()
      .meta({ description: "Only versions of this image (its slug)." }),
    project: catalogSearchSchema.shape.project,
    status: catalogSearchSchema.shape.status,
    format: catalogSearchSchema.shape.format,
  })
  .extend(pageQuerySchema.shape);

export const imageVersionsQuerySchema = versionListQuerySchema.pick({
  status: true,
  format: true,
  cursor: true,
  limit: true,
});

export const createImageBodySchema = createImageForImportSchema
  .omit({ projectId: true })
  .extend({ project: projectSlug })
  .meta({ id: "CreateImage" });

export const patchImageBodySchema = z
  .object({
    name: updateImageDetailsSchema.shape.name.optional(),
    description: updateImageDetailsSchema.shape.description.optional(),
    os: updateImageDetailsSchema.shape.os.optional(),
    osVersion: updateImageDetailsSchema.shape.osVersion.optional(),
    arch: updateImageDetailsSchema.shape.arch.optional(),
    visibility: setVisibilitySchema.shape.visibility.optional(),
    addTags: z.array(tagSchema).max(32).optional(),
    removeTags: z.array(tagSchema).max(32).optional(),
    setProperties: z.record(propertyKeySchema, setPropertySchema.shape.value).optional(),
    removeProperties: z.array(propertyKeySchema).max(64).optional(),
  })
  .meta({
    id: "UpdateImage",
    description: "Every part is checked before anything changes; a refusal changes nothing.",
  });

export const moveChannelBodySchema = z
  .object({
    versionId: moveChannelSchema.shape.versionId.optional(),
    version: versionLabelSchema.optional().meta({ description: "The version's label, instead of its id." }),
  })
  .refine((body) => (body.versionId === undefined) !== (body.version === undefined), {
    message: "Say which version the channel points at: versionId or version (one of them).",
    path: ["versionId"],
  })
  .meta({ id: "MoveChannel" });

export const conversionBodySchema = requestConversionSchema.omit({ versionId: true }).meta({ id: "RequestConversion" });
export const conversionSchema = z
  .object({ format: z.enum(convertibleFormats), status: z.string() })
  .meta({ id: "Conversion" });

const cloneFields = cloneVersionSchema.shape;
export const cloneBodySchema = z
  .object({
    project: projectSlug.meta({ description: "The project the clone goes into." }),
    image: imageSlug.optional().meta({ description: "An image of that project to add the version to." }),
    newImageSlug: cloneFields.newImageSlug,
    newImageName: cloneFields.newImageName,
    version: cloneFields.version,
    mode: cloneFields.mode,
    resetIdentity: cloneFields.resetIdentity,
    resetOperations: cloneFields.resetOperations,
  })
  .meta({ id: "CloneVersion", description: "Name an existing image of the project, or a new one (not both)." });

// ── Operations ──────────────────────────────────────────────────────────────────────────────

const projectSlugParam = z.string().meta({ description: "The project's slug.", example: "platform" });

const downloadOperation = {
  tags: ["Versions"],
  requestParams: {
    path: z.object({ id: versionIdParam }),
    query: z.object({
      format: z
        .enum(convertibleFormats)
        .optional()
        .meta({ description: "A finished conversion of the version instead of its original bytes." }),
    }),
    header: z.object({
      range: z.string().optional().meta({ description: "`bytes=N-` to resume; answered with 206." }),
      "if-range": z.string().optional().meta({ description: "The ETag the partial file came from." }),
    }),
  },
  responses: {
    "200": {
      description: "The whole disk image (Content-Length, ETag = the sha256, Accept-Ranges: bytes).",
      content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
    },
    "206": {
      description: "The requested byte range.",
      content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
    },
    "416": { description: "The range is outside the file." },
    ...errorResponses("not_found", "conflict"),
  },
};

const imageParams = { path: z.object({ slug: slugParam }) };
const versionParams = { path: z.object({ id: versionIdParam }) };

export const imagePaths: ZodOpenApiPathsObject = {
  "/api/v1/images": {
    get: {
      operationId: "listImages",
      tags: ["Images"],
      summary: "Images the caller can see, with the catalog's filters and search",
      description:
        "The catalog as a list: `q` searches names, descriptions and tags; the other filters are the catalog's. Keyset-paged: pass `nextCursor` back as `cursor`.",
      requestParams: { query: imageListQuerySchema },
      responses: {
        "200": jsonResponse("A page of images.", pageOf(imageSummarySchema)),
        ...errorResponses("invalid"),
      },
    },
    post: {
      operationId: "createImage",
      tags: ["Images"],
      summary: "Create an image in a project",
      description:
        "Needs a write token and member or owner in the project. Versions are then uploaded through /api/uploads.",
      requestBody: { required: true, content: jsonContent(createImageBodySchema) },
      responses: {
        "201": jsonResponse("The new image.", imageSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "conflict", "too_large", "unsupported_media_type"),
      },
    },
  },
  "/api/v1/images/{slug}": {
    get: {
      operationId: "getImage",
      tags: ["Images"],
      summary: "An image with its description, properties and channels",
      requestParams: imageParams,
      responses: { "200": jsonResponse("The image.", imageSchema), ...errorResponses("not_found") },
    },
    patch: {
      operationId: "updateImage",
      tags: ["Images"],
      summary: "Edit an image's details, visibility, tags and properties",
      description:
        "Each part is the same change as in the web UI (details and tags need member, visibility needs owner). Every part is validated first; a refused request changes nothing.",
      requestParams: imageParams,
      requestBody: { required: true, content: jsonContent(patchImageBodySchema) },
      responses: {
        "200": jsonResponse("The image as it is now.", imageSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "too_large", "unsupported_media_type"),
      },
    },
  },
  "/api/v1/images/{slug}/versions": {
    get: {
      operationId: "listImageVersions",
      tags: ["Versions"],
      summary: "An image's versions the caller can see, newest first",
      requestParams: { ...imageParams, query: imageVersionsQuerySchema },
      responses: {
        "200": jsonResponse("A page of versions.", pageOf(versionSchema)),
        ...errorResponses("invalid", "not_found"),
      },
    },
  },
  "/api/v1/images/{slug}/versions/{version}": {
    get: {
      operationId: "getImageVersion",
      tags: ["Versions"],
      summary: "A version by its label",
      requestParams: {
        path: z.object({ slug: slugParam, version: z.string().meta({ description: "The label.", example: "12.7.0" }) }),
      },
      responses: { "200": jsonResponse("The version.", versionSchema), ...errorResponses("not_found") },
    },
  },
  "/api/v1/images/{slug}/channels": {
    get: {
      operationId: "listChannels",
      tags: ["Channels"],
      summary: "An image's channels: `latest`, then its named ones",
      requestParams: imageParams,
      responses: {
        "200": jsonResponse("The channels.", z.object({ items: z.array(channelSchema) })),
        ...errorResponses("not_found"),
      },
    },
  },
  "/api/v1/versions": {
    get: {
      operationId: "listVersions",
      tags: ["Versions"],
      summary: "Every version the caller can see, newest first",
      description: "Across the catalog; filter by image, project, release status and format. Keyset-paged.",
      requestParams: { query: versionListQuerySchema },
      responses: {
        "200": jsonResponse("A page of versions.", pageOf(versionSchema)),
        ...errorResponses("invalid"),
      },
    },
  },
  "/api/v1/versions/{id}": {
    get: {
      operationId: "getVersion",
      tags: ["Versions"],
      summary: "A version, with its inspection report and newest boot verdict",
      requestParams: versionParams,
      responses: { "200": jsonResponse("The version.", versionSchema), ...errorResponses("not_found") },
    },
  },
  "/api/v1/versions/{id}/conversions": {
    post: {
      operationId: "requestConversion",
      tags: ["Versions"],
      summary: "Convert a version to another format",
      description:
        "Queues the conversion (or reports the one there is); once `ready`, download it with `?format=`. Anyone who may download the version may ask.",
      requestParams: versionParams,
      requestBody: { required: true, content: jsonContent(conversionBodySchema) },
      responses: {
        "202": jsonResponse("The conversion and where it stands.", conversionSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "too_large", "unsupported_media_type"),
      },
    },
  },
  "/api/v1/versions/{id}/clones": {
    post: {
      operationId: "cloneVersion",
      tags: ["Clones"],
      summary: "Clone a version into a project",
      description: "Linked clones are made at once; full ones are queued. Needs member or owner in the target project.",
      requestParams: versionParams,
      requestBody: { required: true, content: jsonContent(cloneBodySchema) },
      responses: {
        "202": jsonResponse("The clone.", cloneSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "conflict", "too_large", "unsupported_media_type"),
      },
    },
  },
  "/api/v1/projects": {
    get: {
      operationId: "listProjects",
      tags: ["Projects"],
      summary: "The caller's projects (every project for an admin token), by name",
      requestParams: { query: pageQuerySchema },
      responses: {
        "200": jsonResponse("A page of projects.", pageOf(projectSchema)),
        ...errorResponses("invalid"),
      },
    },
  },
  "/api/v1/projects/{slug}": {
    get: {
      operationId: "getProject",
      tags: ["Projects"],
      summary: "A project the caller belongs to",
      requestParams: { path: z.object({ slug: projectSlugParam }) },
      responses: { "200": jsonResponse("The project.", projectSchema), ...errorResponses("not_found") },
    },
  },
  "/api/v1/projects/{slug}/members": {
    get: {
      operationId: "listProjectMembers",
      tags: ["Projects"],
      summary: "A project's members",
      requestParams: { path: z.object({ slug: projectSlugParam }) },
      responses: {
        "200": jsonResponse("The members.", z.object({ items: z.array(memberSchema) })),
        ...errorResponses("not_found"),
      },
    },
  },
  "/api/v1/projects/{slug}/clones": {
    get: {
      operationId: "listProjectClones",
      tags: ["Clones"],
      summary: "Clones into a project, newest first",
      requestParams: { path: z.object({ slug: projectSlugParam }), query: pageQuerySchema },
      responses: {
        "200": jsonResponse("A page of clones.", pageOf(cloneSchema)),
        ...errorResponses("invalid", "not_found"),
      },
    },
  },
  "/api/v1/images/{slug}/channels/{channel}": {
    put: {
      operationId: "moveChannel",
      tags: ["Channels"],
      summary: "Point a channel at an approved version (creating the channel)",
      description: "Owners move channels; `latest` is managed by Hangar and can't be moved.",
      requestParams: {
        path: z.object({
          slug: slugParam,
          channel: z.string().meta({ description: "The channel's name.", example: "stable" }),
        }),
      },
      requestBody: { required: true, content: jsonContent(moveChannelBodySchema) },
      responses: {
        "200": jsonResponse("The channel and its version.", channelLookupSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "too_large", "unsupported_media_type"),
      },
    },
    get: {
      operationId: "getChannel",
      tags: ["Channels"],
      summary: "A channel's current version, with its download URL and checksum",
      description: "The lookup for deploy scripts and Terraform: which version `stable` is, and where to fetch it.",
      requestParams: {
        path: z.object({
          slug: slugParam,
          channel: z.string().meta({ description: "The channel's name.", example: "latest" }),
        }),
      },
      responses: {
        "200": jsonResponse("The channel and its version.", channelLookupSchema),
        ...errorResponses("not_found"),
      },
    },
  },
  "/api/v1/versions/{id}/download": {
    get: { operationId: "downloadVersion", summary: "Download a version's disk image", ...downloadOperation },
    head: {
      operationId: "headVersionDownload",
      summary: "The download's headers only (size, type, ETag)",
      ...downloadOperation,
    },
  },
};
