// The retention planner: pure, so the preview, the daily job and the tests compute exactly the
// same list of changes from the same facts. It never decides who may act; it only says what the
// rule asks for and why, and which deletions the delete refusal rules hold back.
import type { ReleaseStatus } from "@/db/enums";

export interface RetentionRule {
  /** The newest N approved versions are never touched; null: no such protection. */
  keepNewestApproved: number | null;
  /** Deprecate approved versions approved more than D days ago once a newer approved one exists. */
  deprecateAfterDays: number | null;
  /** Delete versions deprecated more than E days ago, unless something depends on them. */
  deleteDeprecatedAfterDays: number | null;
}

export interface RetentionVersion {
  id: string;
  version: string;
  releaseStatus: ReleaseStatus;
  createdAt: Date;
  /** When it was last approved; null when no approval is on record (then createdAt counts). */
  approvedAt: Date | null;
  /** When it was last deprecated; null when no deprecation is on record (then createdAt counts). */
  deprecatedAt: Date | null;
  /** What still depends on it, as the delete refusal words it (db/queries/releases.ts versionDependants). */
  dependants: string[];
}

export type RetentionChange =
  | { kind: "deprecate"; versionId: string; version: string; from: ReleaseStatus; reason: string }
  | { kind: "delete"; versionId: string; version: string; from: ReleaseStatus; reason: string }
  | { kind: "refused-delete"; versionId: string; version: string; from: ReleaseStatus; reason: string };

const DAY_MS = 24 * 60 * 60 * 1000;

const daysBetween = (from: Date, to: Date) => Math.floor((to.getTime() - from.getTime()) / DAY_MS);
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** Newest first by creation, ties broken by id so the order never depends on the input order. */
function newestFirst(a: RetentionVersion, b: RetentionVersion): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  return byTime !== 0 ? byTime : b.id.localeCompare(a.id);
}

/** Every change the rule asks for on one image at `now`, oldest versions first within each kind. */
export function planRetention({
  versions,
  rule,
  now,
}: {
  versions: RetentionVersion[];
  rule: RetentionRule;
  now: Date;
}): RetentionChange[] {
  const approved = versions.filter((version) => version.releaseStatus === "approved").sort(newestFirst);
  const kept = new Set(approved.slice(0, rule.keepNewestApproved ?? 0).map((version) => version.id));
  const changes: RetentionChange[] = [];

  if (rule.deprecateAfterDays !== null) {
    const limit = rule.deprecateAfterDays;
    // approved[0] is the newest approved version: nothing newer exists, so it always stays.
    for (const [index, version] of approved.entries()) {
      if (index === 0 || kept.has(version.id)) continue;
      const age = daysBetween(version.approvedAt ?? version.createdAt, now);
      if (age <= limit) continue;
      const newer = approved[0]!;
      changes.push({
        kind: "deprecate",
        versionId: version.id,
        version: version.version,
        from: version.releaseStatus,
        reason: `Approved ${plural(age, "day")} ago (more than ${plural(limit, "day")}) and ${newer.version} is a newer approved version${
          rule.keepNewestApproved ? `; not among the newest ${rule.keepNewestApproved} approved` : ""
        }.`,
      });
    }
  }

  if (rule.deleteDeprecatedAfterDays !== null) {
    const limit = rule.deleteDeprecatedAfterDays;
    const deprecated = versions.filter((version) => version.releaseStatus === "deprecated").sort(newestFirst);
    for (const version of deprecated) {
      const age = daysBetween(version.deprecatedAt ?? version.createdAt, now);
      if (age <= limit) continue;
      const due = `Deprecated ${plural(age, "day")} ago (more than ${plural(limit, "day")})`;
      changes.push(
        version.dependants.length
          ? {
              kind: "refused-delete",
              versionId: version.id,
              version: version.version,
              from: version.releaseStatus,
              reason: `${due}, but other things depend on it: ${version.dependants.join("; ")}. It is kept.`,
            }
          : {
              kind: "delete",
              versionId: version.id,
              version: version.version,
              from: version.releaseStatus,
              reason: `${due} and nothing depends on it.`,
            },
      );
    }
  }

  return changes.sort((a, b) => {
    const order = { deprecate: 0, delete: 1, "refused-delete": 2 } as const;
    if (order[a.kind] !== order[b.kind]) return order[a.kind] - order[b.kind];
    const va = versions.find((version) => version.id === a.versionId)!;
    const vb = versions.find((version) => version.id === b.versionId)!;
    return newestFirst(vb, va);
  });
}
