import { z } from "zod";
import { architectures, diskFormats, visibilities } from "@/db/enums";

export const versionLabelSchema = z
  .string()
  .trim()
  .min(1, "Enter a version, for example 1.0.0 or 2024.11.")
  .max(64, "A version is at most 64 characters.")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]*$/,
    "A version uses letters, digits, '.', '_', '+' and '-' (for example 12.7.0 or 20241124-1).",
  );

export const slugSchema = z
  .string()
  .trim()
  .min(2, "A short name is at least 2 characters.")
  .max(63, "A short name is at most 63 characters.")
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    "A short name uses lowercase letters, digits and '-', like debian-12-base.",
  );

export const createImageForImportSchema = z.object({
  projectId: z.string().uuid("Choose a project."),
  slug: slugSchema,
  name: z.string().trim().min(1, "Enter a name.").max(120, "A name is at most 120 characters."),
  os: z.string().trim().min(1, "Enter the operating system.").max(60),
  osVersion: z.string().trim().max(40).default(""),
  arch: z.enum(architectures, { message: `Choose one of: ${architectures.join(", ")}.` }).default("x86_64"),
  visibility: z.enum(visibilities).default("private"),
  description: z.string().max(20_000).default(""),
});

export const claimedFormatSchema = z.enum(["detect", ...diskFormats], {
  message: `The format is one of: detect, ${diskFormats.join(", ")}.`,
});

export const startUrlImportSchema = z.object({
  imageId: z.string().uuid("Choose the image this import is a version of."),
  version: versionLabelSchema,
  url: z.string().trim().min(1, "Paste the link to the image file.").max(2048, "That link is too long."),
  format: claimedFormatSchema.default("detect"),
  sha256: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^([0-9a-f]{64})?$/, "The expected sha256 is 64 hexadecimal characters.")
    .optional(),
});
