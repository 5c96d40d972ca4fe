// The release state machine and what each state allows, in one place: which action moves a
// version from which states to which, who may take it and the words for each refusal, and which
// states are seen, used or built on. Everything that changes or reads a release status asks here.
import type { ReleaseStatus } from "@/db/enums";

/** Releases that leave their project: seen outside it (the last two with their warnings). */
export const releasedStatuses: readonly ReleaseStatus[] = ["approved", "deprecated", "disabled", "revoked"];

/** Released versions people outside the project may still use (deprecated ones with a warning). */
export const usableReleasedStatuses: readonly ReleaseStatus[] = ["approved", "deprecated"];

/** Versions nobody but admins may use (download, build on, clone), not even in their own project. */
export const blockedStatuses: readonly ReleaseStatus[] = ["disabled", "revoked"];

/** Versions nobody may build on, whatever their role. */
export const unbuildableStatuses: readonly ReleaseStatus[] = ["rejected", "disabled", "revoked"];

/** A finished build whose output was turned down is not reused when the same build is asked for again. */
export const notReusableStatuses: readonly ReleaseStatus[] = ["rejected", "revoked"];

/** Retired versions: still listed, with a word on what may still be done with them. */
export const retiredNotices: Partial<Record<ReleaseStatus, string>> = {
  deprecated: "It still works, but don't start anything new on it.",
  disabled: "No new builds, clones or downloads except by admins.",
  revoked: "Nobody may use it.",
};

/** Whether a ready version in `status` may be taken as a recipe's base by someone who may use it. */
export function isBuildable(status: ReleaseStatus): boolean {
  return !unbuildableStatuses.includes(status);
}

/**
 * Approved: the one state new use is pointed at. Only such versions are cloned, named by a channel
 * or as a retiring version's replacement, and followed by `latest` (db/queries/release-sql.ts).
 */
export function isCurrentRelease(status: ReleaseStatus): boolean {
  return status === "approved";
}

/** Why a version in each state but approved can't be cloned, and what to do instead. */
export const notCloneableWords: Partial<Record<ReleaseStatus, string>> = {
  draft: "it is a draft; submit it for review and clone it once an admin approved it",
  pending_review: "it is waiting for review; clone it once an admin approved it",
  rejected: "it was rejected",
  deprecated: "it is deprecated; clone its replacement or the newest approved version",
  disabled: "it is disabled: no new use",
  revoked: "it is revoked: no use at all",
};

export const releaseActions = ["submit", "approve", "reject", "deprecate", "disable", "revoke", "reinstate"] as const;
export type ReleaseAction = (typeof releaseActions)[number];

export interface Transition {
  from: ReleaseStatus[];
  to: ReleaseStatus;
  /** Who may take it: the image project's members, its owners, or admins only. */
  who: "member" | "owner" | "admin";
  verb: string;
}

export const transitions: Record<ReleaseAction, Transition> = {
  submit: { from: ["draft", "rejected"], to: "pending_review", who: "member", verb: "submit for review" },
  approve: { from: ["pending_review"], to: "approved", who: "admin", verb: "approve" },
  reject: { from: ["pending_review"], to: "rejected", who: "admin", verb: "reject" },
  deprecate: { from: ["approved"], to: "deprecated", who: "owner", verb: "deprecate" },
  disable: { from: ["approved", "deprecated"], to: "disabled", who: "admin", verb: "disable" },
  revoke: { from: ["approved", "deprecated", "disabled"], to: "revoked", who: "admin", verb: "revoke" },
  reinstate: { from: ["deprecated", "disabled"], to: "approved", who: "admin", verb: "reinstate" },
};

/** Actions that may carry a replacement version and a date in the future. */
export const retiringActions: ReleaseAction[] = ["deprecate", "disable", "revoke"];

export const statusWords: Record<ReleaseStatus, string> = {
  draft: "a draft",
  pending_review: "waiting for review",
  approved: "approved",
  rejected: "rejected",
  deprecated: "deprecated",
  disabled: "disabled",
  revoked: "revoked",
};

/** Why `action` can't be taken on a version in `status`, in words; null when it can. */
export function illegalTransition(action: ReleaseAction, status: ReleaseStatus): string | null {
  const transition = transitions[action];
  if (transition.from.includes(status)) return null;
  return `You can't ${transition.verb} this version: it is ${statusWords[status]}. Only a version that is ${transition.from.map((from) => statusWords[from]).join(" or ")} can be.`;
}

/** How a person stands to a version: computed by db/queries/access.ts (releaseStandingOf). */
export interface ReleaseStanding {
  admin: boolean;
  owner: boolean;
  member: boolean;
  /** They produced the version (see versionProducerIds), so the four-eyes rule keeps them from approving it. */
  producer: boolean;
}

const whoWords: Record<Transition["who"], string> = {
  admin: "an admin",
  owner: "an owner of the image's project or an admin",
  member: "a member of the image's project",
};

export const fourEyesRefusal =
  "You produced this version (you uploaded, cloned or built it, or wrote part of the recipe it was built from), so someone else has to approve it (four-eyes rule). Nothing was changed.";

/** Shown next to the release controls of a version waiting for review that the viewer produced. */
export const producerNote = "You produced this version, so another admin has to approve it.";

/** Why this person may not take `action` at all, whatever the version's state, in words; null when they may. */
export function releaseRefusal(action: ReleaseAction, standing: ReleaseStanding): string | null {
  const transition = transitions[action];
  const allowed =
    transition.who === "admin"
      ? standing.admin
      : transition.who === "owner"
        ? standing.admin || standing.owner
        : standing.admin || standing.member || standing.owner;
  if (!allowed) return `Only ${whoWords[transition.who]} can ${transition.verb} a version. Nothing was changed.`;
  if (action === "approve" && standing.producer) return fourEyesRefusal;
  return null;
}

/** The actions a person with this standing could take on a version in `status`. */
export function availableActions(status: ReleaseStatus, standing: ReleaseStanding): ReleaseAction[] {
  return releaseActions.filter(
    (action) => transitions[action].from.includes(status) && releaseRefusal(action, standing) === null,
  );
}

/** What the boot-test approval gate knows about a version (db/queries/boot-tests.ts getBootGate). */
export interface BootGate {
  /** Its image requires a passing boot test before approval (an owner/admin setting). */
  required: boolean;
  /** Its newest boot test, if any. */
  latest: { status: "queued" | "running" | "succeeded" | "failed" | "cancelled"; result: string | null } | null;
}

const bootResultWords: Record<string, string> = {
  failed: "failed",
  timed_out: "timed out",
  not_bootable: "found the disk not bootable",
};

/**
 * Why approving is refused by the boot-test gate, in words; null when the image doesn't require a
 * boot test or the version's latest boot test passed.
 */
export function bootGateRefusal(gate: BootGate): string | null {
  if (!gate.required) return null;
  const latest = gate.latest;
  if (latest?.status === "succeeded" && latest.result === "passed") return null;
  const lead = "This image requires a passing boot test before approval";
  if (!latest)
    return `${lead}, and this version has not been boot-tested yet. Run “Test boot” and approve once it passes.`;
  if (latest.status === "queued" || latest.status === "running")
    return `${lead}; this version's boot test is still ${latest.status === "queued" ? "waiting to run" : "running"}. Approve once it passes.`;
  const outcome =
    latest.status === "succeeded"
      ? (bootResultWords[latest.result ?? ""] ?? "did not pass")
      : latest.status === "cancelled"
        ? "was cancelled"
        : "could not run";
  return `${lead}; this version's latest boot test ${outcome}. Fix the image or test it again, and approve once it passes.`;
}

/** Actions a person could take but that are held back for now, with the reason a disabled button shows. */
export function heldBackActions(
  actions: ReleaseAction[],
  { bootGate }: { bootGate: BootGate },
): Partial<Record<ReleaseAction, string>> {
  const refusal = actions.includes("approve") ? bootGateRefusal(bootGate) : null;
  return refusal ? { approve: refusal } : {};
}
