import { z } from "zod";

/** An empty field turns that part of the rule off. */
const optionalCount = (what: string) =>
  z.preprocess(
    (value) => (value === "" || value === undefined ? null : value),
    z.coerce
      .number({ message: `${what} must be a whole number.` })
      .int(`${what} must be a whole number.`)
      .min(1, `${what} is at least 1, or leave it empty to turn this off.`)
      .max(100_000, `${what} is at most 100000.`)
      .nullable(),
  );

const imageId = z.string().uuid("Say which image.");

const ruleFields = {
  keepNewestApproved: optionalCount("The number of approved versions to keep"),
  deprecateAfterDays: optionalCount("Days before deprecating"),
  deleteDeprecatedAfterDays: optionalCount("Days before deleting"),
};

export const getRetentionRuleSchema = z.object({ imageId });

export const setRetentionRuleSchema = z.object({
  imageId,
  ...ruleFields,
  enabled: z.preprocess((value) => value === true || value === "on" || value === "true", z.boolean()),
});

/** A preview of the values in the form, saved or not. */
export const previewRetentionSchema = z.object({ imageId, ...ruleFields });

export const runRetentionSchema = z.object({ imageId });
