// /api/v1 operations on images, versions, channels, projects and clones.
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { diskFormats, releaseStatuses, convertibleFormats } from "@/db/enums";
import { errorResponses, jsonResponse } from "./common";

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

export const imagePaths: ZodOpenApiPathsObject = {
  "/api/v1/images/{slug}/channels/{channel}": {
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
