import { z } from "zod";
import { LOGIN_PROMPT_PATTERN } from "@/lib/content/boot-console";

export const requestBootTestSchema = z.object({
  versionId: z.string().uuid("Say which version to boot-test."),
});

export const cancelBootTestSchema = z.object({
  bootTestId: z.string().uuid("Say which boot test to cancel."),
});

export const bootTestLogQuerySchema = z.object({
  id: z.string().uuid("That boot test doesn't exist or you can't see it."),
  after: z.coerce.number().int().min(0).default(0),
});

/** A marker is one line of printable text the guest prints once it is up; empty: a login prompt counts. */
export const bootSuccessMarkerSchema = z
  .string()
  .trim()
  .max(200, "A success marker is at most 200 characters.")
  .refine(
    (value) => !/[\x00-\x1f\x7f]/.test(value),
    "A success marker is one line of text, without control characters.",
  )
  .refine((value) => value !== LOGIN_PROMPT_PATTERN, "Leave the marker empty to wait for a login prompt.")
  .transform((value) => (value === "" ? null : value));

export const updateBootSettingsSchema = z.object({
  imageId: z.string().uuid("Say which image to change."),
  required: z.boolean(),
  marker: z.preprocess((value) => value ?? "", bootSuccessMarkerSchema),
});
