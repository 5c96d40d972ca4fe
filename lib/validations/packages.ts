// TEMPORARY: replaced by the package-search branch at merge
// A package condition as people type it: a name, and optionally an operator and a version
// ("openssl", "openssl < 3.0.14", "libc6>=2.36-9+deb12u4", "bash = 1:5.2.15-2").
import { HangarError } from "@/lib/errors";

export type PackageOperator = "=" | "<" | "<=" | ">" | ">=";

export interface PackageCondition {
  name: string;
  op?: PackageOperator;
  version?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9+._-]*$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+~:_-]*$/;

/** Parses "name [op version]"; throws an `invalid` HangarError that says what is wrong. */
export function parsePackageCondition(text: string): PackageCondition {
  const trimmed = text.trim();
  if (!trimmed)
    throw new HangarError("invalid", "Type a package name, optionally with a condition like openssl < 3.0.14.");
  if (trimmed.length > 200) throw new HangarError("invalid", "A package condition is at most 200 characters.");
  const match = /^([^\s<>=!~]+)\s*(?:([<>=!~]+)\s*(.*))?$/.exec(trimmed);
  if (!match)
    throw new HangarError(
      "invalid",
      `“${trimmed}” is not a package condition: write a name, then optionally =, <, <=, > or >= and a version.`,
    );
  const [, name = "", rawOp, rawVersion] = match;
  if (!NAME.test(name))
    throw new HangarError("invalid", `“${name}” is not a package name: use letters, digits and + . _ - only.`);
  if (rawOp === undefined) return { name };
  const ops: PackageOperator[] = ["=", "<", "<=", ">", ">="];
  const op = rawOp === "==" ? "=" : rawOp;
  if (!ops.includes(op as PackageOperator))
    throw new HangarError("invalid", `“${rawOp}” is not a version operator: use =, <, <=, > or >=.`);
  const version = (rawVersion ?? "").trim();
  if (!version) throw new HangarError("invalid", `Add a version after “${op}”, for example ${name} ${op} 3.0.14.`);
  if (!VERSION.test(version))
    throw new HangarError(
      "invalid",
      `“${version}” is not a package version: use letters, digits and . + ~ : _ - only, with no spaces.`,
    );
  return { name, op: op as PackageOperator, version };
}

/** The condition as text again, for URLs and headings. */
export function formatPackageCondition(condition: PackageCondition): string {
  return condition.op && condition.version ? `${condition.name} ${condition.op} ${condition.version}` : condition.name;
}
