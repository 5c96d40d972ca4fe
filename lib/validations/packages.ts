import { z } from "zod";
import { HangarError } from "@/lib/errors";
import { packageSchemes } from "@/db/enums";
import { parseVersion, VersionSyntaxError, type VersionOperator } from "@/lib/content/package-versions";

export const PACKAGE_CONDITION_MAX_LENGTH = 300;
export const PACKAGE_SEARCH_MAX_LIMIT = 200;

/** "openssl", "openssl < 3.0.14", "openssl>=1:3.0.11-1~deb12u2". */
export interface PackageCondition {
  name: string;
  op?: VersionOperator;
  version?: string;
}

const CONDITION = /^([A-Za-z0-9][A-Za-z0-9+._-]*)\s*(?:(<=|>=|==|=|<|>)\s*(\S+))?$/;

/** The condition, or the reason it is not one (said to the person who typed it). */
export function parsePackageCondition(text: string): PackageCondition | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: "Enter a package name, optionally with a version condition such as openssl < 3.0.14." };
  const match = CONDITION.exec(trimmed);
  if (!match) {
    if (/^[A-Za-z0-9][A-Za-z0-9+._-]*\s*(<=|>=|==|=|<|>)\s*$/.test(trimmed))
      return { error: `"${trimmed}" compares with no version; add one, for example openssl < 3.0.14.` };
    if (/[<>=!]/.test(trimmed) && !/^[A-Za-z0-9]/.test(trimmed))
      return { error: "Start with the package name, for example openssl < 3.0.14." };
    return {
      error: `"${trimmed}" is not a package condition. Write a package name, optionally followed by =, <, <=, > or >= and a version (openssl < 3.0.14, libc6 >= 2.36-9).`,
    };
  }
  const [, name, op, version] = match;
  if (!op || !version) return { name: name! };
  try {
    // Both schemes must read it: a condition is searched across deb and rpm images at once.
    for (const scheme of packageSchemes) parseVersion(scheme, version);
  } catch (error) {
    if (error instanceof VersionSyntaxError)
      return { error: `The version in "${trimmed}" is not valid: ${error.message}` };
    throw error;
  }
  return { name: name!, op: op === "==" ? "=" : (op as VersionOperator), version };
}

export const packageConditionSchema = z
  .string()
  .max(PACKAGE_CONDITION_MAX_LENGTH, `A package condition is at most ${PACKAGE_CONDITION_MAX_LENGTH} characters.`)
  .transform((text, context): PackageCondition => {
    const parsed = parsePackageCondition(text);
    if ("error" in parsed) {
      context.addIssue({ code: "custom", message: parsed.error });
      return z.NEVER;
    }
    return parsed;
  });

export const searchPackagesSchema = z.object({
  condition: packageConditionSchema,
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(PACKAGE_SEARCH_MAX_LIMIT).default(50),
});

export const sbomFormats = ["cyclonedx", "spdx"] as const;
export type SbomFormat = (typeof sbomFormats)[number];

export const exportSbomSchema = z.object({
  format: z.enum(sbomFormats, { message: "The format is cyclonedx or spdx." }).default("cyclonedx"),
});

/** The condition as a person writes it: "openssl < 3.0.14". */
export function formatPackageCondition(condition: PackageCondition): string {
  return condition.op && condition.version ? `${condition.name} ${condition.op} ${condition.version}` : condition.name;
}

/** The condition, or a HangarError saying what is wrong with it (for pages that show the message by the field). */
export function readPackageCondition(text: string): PackageCondition {
  const parsed = parsePackageCondition(text);
  if ("error" in parsed) throw new HangarError("invalid", parsed.error);
  return parsed;
}
