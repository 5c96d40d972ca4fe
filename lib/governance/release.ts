// The release state machine, in one place: which action moves a version from which states to
// which, and who may take it. Everything that changes a release status goes through here.
import type { ReleaseStatus } from "@/db/enums";

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

/** The actions a person with this standing could take on a version in `status`. */
export function availableActions(status: ReleaseStatus, standing: { admin: boolean; owner: boolean; member: boolean; producer: boolean }): ReleaseAction[] {
  return releaseActions.filter((action) => {
    const transition = transitions[action];
    if (!transition.from.includes(status)) return false;
    if (action === "approve" && standing.producer) return false;
    if (transition.who === "admin") return standing.admin;
    if (transition.who === "owner") return standing.admin || standing.owner;
    return standing.admin || standing.member || standing.owner;
  });
}
