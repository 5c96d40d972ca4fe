import { describe, expect, it } from "vitest";
import type { ReleaseStatus } from "@/db/enums";
import { planRetention, type RetentionRule, type RetentionVersion } from "./plan";

const now = new Date("2026-06-01T00:00:00Z");
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);

function version(
  label: string,
  status: ReleaseStatus,
  createdDaysAgo: number,
  extra: Partial<RetentionVersion> = {},
): RetentionVersion {
  return {
    id: `id-${label}`,
    version: label,
    releaseStatus: status,
    createdAt: daysAgo(createdDaysAgo),
    approvedAt: null,
    deprecatedAt: null,
    dependants: [],
    ...extra,
  };
}

const off: RetentionRule = { keepNewestApproved: null, deprecateAfterDays: null, deleteDeprecatedAfterDays: null };

const cases: {
  name: string;
  rule: Partial<RetentionRule>;
  versions: RetentionVersion[];
  expected: [kind: string, version: string][];
}[] = [
  {
    name: "every rule off changes nothing",
    rule: {},
    versions: [version("1", "approved", 400), version("2", "approved", 300), version("0", "deprecated", 500)],
    expected: [],
  },
  {
    name: "deprecates old approved versions once a newer approved one exists",
    rule: { deprecateAfterDays: 30 },
    versions: [version("1", "approved", 90), version("2", "approved", 60), version("3", "approved", 1)],
    expected: [
      ["deprecate", "1"],
      ["deprecate", "2"],
    ],
  },
  {
    name: "the newest approved version stays however old it is",
    rule: { deprecateAfterDays: 30 },
    versions: [version("1", "approved", 400), version("2", "pending_review", 1), version("3", "draft", 1)],
    expected: [],
  },
  {
    name: "the newest N approved are never touched",
    rule: { keepNewestApproved: 2, deprecateAfterDays: 30 },
    versions: [
      version("1", "approved", 300),
      version("2", "approved", 200),
      version("3", "approved", 100),
      version("4", "approved", 50),
    ],
    expected: [
      ["deprecate", "1"],
      ["deprecate", "2"],
    ],
  },
  {
    name: "age counts from approval, not creation",
    rule: { deprecateAfterDays: 30 },
    versions: [
      version("1", "approved", 300, { approvedAt: daysAgo(10) }),
      version("2", "approved", 200, { approvedAt: daysAgo(40) }),
      version("3", "approved", 5),
    ],
    expected: [["deprecate", "2"]],
  },
  {
    name: "exactly D days old is not older than D days",
    rule: { deprecateAfterDays: 30 },
    versions: [version("1", "approved", 30), version("2", "approved", 1)],
    expected: [],
  },
  {
    name: "other states are left to people",
    rule: { deprecateAfterDays: 1, deleteDeprecatedAfterDays: 1 },
    versions: [
      version("1", "disabled", 300),
      version("2", "revoked", 300),
      version("3", "rejected", 300),
      version("4", "draft", 300),
      version("5", "approved", 1),
    ],
    expected: [],
  },
  {
    name: "deletes versions deprecated more than E days ago",
    rule: { deleteDeprecatedAfterDays: 14 },
    versions: [
      version("1", "deprecated", 300, { deprecatedAt: daysAgo(20) }),
      version("2", "deprecated", 200, { deprecatedAt: daysAgo(5) }),
      version("3", "approved", 100),
    ],
    expected: [["delete", "1"]],
  },
  {
    name: "a deprecated version something depends on is refused, with the reason",
    rule: { deleteDeprecatedAfterDays: 14 },
    versions: [
      version("1", "deprecated", 300, { deprecatedAt: daysAgo(20), dependants: ["channel stable (points at it)"] }),
      version("2", "deprecated", 300, { deprecatedAt: daysAgo(20) }),
    ],
    expected: [
      ["delete", "2"],
      ["refused-delete", "1"],
    ],
  },
  {
    name: "a version deprecated in this run is not deleted in the same run",
    rule: { deprecateAfterDays: 30, deleteDeprecatedAfterDays: 1 },
    versions: [version("1", "approved", 300), version("2", "approved", 1)],
    expected: [["deprecate", "1"]],
  },
  {
    name: "all three together, oldest first within each kind",
    rule: { keepNewestApproved: 1, deprecateAfterDays: 30, deleteDeprecatedAfterDays: 60 },
    versions: [
      version("0.8", "deprecated", 400, { deprecatedAt: daysAgo(100) }),
      version("0.9", "deprecated", 350, { deprecatedAt: daysAgo(90), dependants: ["build #4 (ran on it)"] }),
      version("1.0", "approved", 200),
      version("1.1", "approved", 100),
      version("1.2", "approved", 20),
    ],
    expected: [
      ["deprecate", "1.0"],
      ["deprecate", "1.1"],
      ["delete", "0.8"],
      ["refused-delete", "0.9"],
    ],
  },
];

describe("planRetention", () => {
  it.each(cases)("$name", ({ rule, versions, expected }) => {
    const plan = planRetention({ versions, rule: { ...off, ...rule }, now });
    expect(plan.map((change) => [change.kind, change.version])).toEqual(expected);
    for (const change of plan) expect(change.reason.length).toBeGreaterThan(10);
  });

  it("gives the reason in words, naming the dependants of a refused deletion", () => {
    const plan = planRetention({
      versions: [
        version("1", "approved", 90),
        version("2", "approved", 1),
        version("0", "deprecated", 400, { deprecatedAt: daysAgo(40), dependants: ["channel stable (points at it)"] }),
      ],
      rule: { keepNewestApproved: 1, deprecateAfterDays: 30, deleteDeprecatedAfterDays: 30 },
      now,
    });
    expect(plan[0]!.reason).toBe(
      "Approved 90 days ago (more than 30 days) and 2 is a newer approved version; not among the newest 1 approved.",
    );
    expect(plan[1]!.reason).toBe(
      "Deprecated 40 days ago (more than 30 days), but other things depend on it: channel stable (points at it). It is kept.",
    );
  });
});
