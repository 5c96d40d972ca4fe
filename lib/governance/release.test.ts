// The release rules as plain functions: who may take which action from which state, in which
// words a refusal comes, and which states are seen, used, built on and cloned.
import { describe, expect, it } from "vitest";
import { releaseStatuses, type ReleaseStatus } from "@/db/enums";
import {
  availableActions,
  blockedStatuses,
  fourEyesRefusal,
  illegalTransition,
  isBuildable,
  isCurrentRelease,
  notCloneableWords,
  releaseActions,
  releaseRefusal,
  releasedStatuses,
  retiredNotices,
  transitions,
  usableReleasedStatuses,
  type ReleaseStanding,
} from "./release";

const nobody: ReleaseStanding = { admin: false, owner: false, member: false, producer: false };
const viewer = nobody;
const member: ReleaseStanding = { ...nobody, member: true };
const owner: ReleaseStanding = { ...nobody, owner: true, member: true };
const admin: ReleaseStanding = { ...nobody, admin: true };

describe("availableActions", () => {
  it("offers a member only submitting a draft or a rejected version", () => {
    expect(availableActions("draft", member)).toEqual(["submit"]);
    expect(availableActions("rejected", member)).toEqual(["submit"]);
    for (const status of releaseStatuses.filter((status) => status !== "draft" && status !== "rejected"))
      expect(availableActions(status, member)).toEqual([]);
  });

  it("offers an owner deprecating an approved version too, and nothing an admin alone decides", () => {
    expect(availableActions("approved", owner)).toEqual(["deprecate"]);
    expect(availableActions("pending_review", owner)).toEqual([]);
    expect(availableActions("deprecated", owner)).toEqual([]);
  });

  it("offers an admin every legal transition, but never approving what they produced", () => {
    for (const status of releaseStatuses) {
      expect(availableActions(status, admin)).toEqual(
        releaseActions.filter((action) => transitions[action].from.includes(status)),
      );
    }
    expect(availableActions("pending_review", { ...admin, producer: true })).toEqual(["reject"]);
  });

  it("offers a project viewer nothing", () => {
    for (const status of releaseStatuses) expect(availableActions(status, viewer)).toEqual([]);
  });
});

describe("releaseRefusal", () => {
  it("names who may take the action", () => {
    expect(releaseRefusal("approve", owner)).toBe("Only an admin can approve a version. Nothing was changed.");
    expect(releaseRefusal("deprecate", member)).toBe(
      "Only an owner of the image's project or an admin can deprecate a version. Nothing was changed.",
    );
    expect(releaseRefusal("submit", viewer)).toBe(
      "Only a member of the image's project can submit for review a version. Nothing was changed.",
    );
  });

  it("refuses a producer's own approval with the four-eyes rule, after the role", () => {
    expect(releaseRefusal("approve", { ...admin, producer: true })).toBe(fourEyesRefusal);
    expect(releaseRefusal("approve", { ...member, producer: true })).toMatch(/^Only an admin/);
    expect(releaseRefusal("reject", { ...admin, producer: true })).toBeNull();
  });

  it("agrees with availableActions on every action a state allows", () => {
    for (const standing of [viewer, member, owner, admin, { ...admin, producer: true }]) {
      for (const status of releaseStatuses) {
        const legal = releaseActions.filter((action) => transitions[action].from.includes(status));
        expect(availableActions(status, standing)).toEqual(
          legal.filter((action) => releaseRefusal(action, standing) === null),
        );
      }
    }
  });
});

describe("illegalTransition", () => {
  it("explains which states an action may start from", () => {
    expect(illegalTransition("approve", "pending_review")).toBeNull();
    expect(illegalTransition("approve", "draft")).toBe(
      "You can't approve this version: it is a draft. Only a version that is waiting for review can be.",
    );
    expect(illegalTransition("reinstate", "approved")).toBe(
      "You can't reinstate this version: it is approved. Only a version that is deprecated or disabled can be.",
    );
  });
});

describe("status sets", () => {
  const is = (set: readonly ReleaseStatus[]) => releaseStatuses.filter((status) => set.includes(status));

  it("uses a released version outside its project only while approved or deprecated, and blocks disabled and revoked ones for all but admins", () => {
    expect(is(releasedStatuses)).toEqual(["approved", "deprecated", "disabled", "revoked"]);
    expect(is(usableReleasedStatuses)).toEqual(["approved", "deprecated"]);
    expect(is(blockedStatuses)).toEqual(["disabled", "revoked"]);
  });

  it("builds on anything but rejected, disabled and revoked versions, and clones approved ones only", () => {
    expect(releaseStatuses.filter(isBuildable)).toEqual(["draft", "pending_review", "approved", "deprecated"]);
    expect(releaseStatuses.filter(isCurrentRelease)).toEqual(["approved"]);
    for (const status of releaseStatuses.filter((status) => !isCurrentRelease(status)))
      expect(notCloneableWords[status]).toBeTruthy();
  });

  it("has a notice for every state a retiring action leads to", () => {
    expect(Object.keys(retiredNotices).sort()).toEqual(["deprecated", "disabled", "revoked"]);
  });
});
