// Every release transition against the real database: legal ones change the row and write the
// review and audit event together; illegal ones, wrong callers and races change nothing.
import { and, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { auditEvents, imageVersions, images, reviews, scheduledReleases, type ReleaseStatus } from "@/db/schema";
import { changeReleaseAction as changeRelease, deleteVersionAction } from "@/lib/actions/release-actions";
import { releaseActions, transitions, type ReleaseAction } from "@/lib/governance/release";
import { createTestBuildOutput, createTestImage, createTestProject, createTestUser, viewerOf } from "@/tests/fixtures";
import { applyDueScheduledReleases, listPendingReviews } from "./releases";
import { getDownloadableVersion, getVersionDetail } from "./versions";
import type { Viewer } from "./users";

let admin: Viewer;
let secondAdmin: Viewer;
let owner: Viewer;
let member: Viewer;
let outsider: Viewer;
let projectId: string;

async function versionIn(status: ReleaseStatus, createdById: string | null = member.id): Promise<string> {
  const image = await createTestImage({ projectId, versions: [{ releaseStatus: status }] });
  const [version] = await db()
    .update(imageVersions)
    .set({ createdById })
    .where(eq(imageVersions.imageId, image.id))
    .returning({ id: imageVersions.id });
  return version!.id;
}

const statusOf = async (versionId: string) =>
  (
    await db()
      .select({ status: imageVersions.releaseStatus })
      .from(imageVersions)
      .where(eq(imageVersions.id, versionId))
  )[0]!.status;
const auditCount = async (versionId: string) =>
  (
    await db()
      .select({ n: count() })
      .from(auditEvents)
      .where(and(eq(auditEvents.objectType, "version"), eq(auditEvents.objectId, versionId)))
  )[0]!.n;

beforeAll(async () => {
  [admin, secondAdmin, owner, member, outsider] = await Promise.all([
    createTestUser({ role: "admin" }),
    createTestUser({ role: "admin" }),
    createTestUser(),
    createTestUser(),
    createTestUser(),
  ]);
  projectId = (
    await createTestProject({
      members: [
        { viewer: owner, role: "owner" },
        { viewer: member, role: "member" },
      ],
    })
  ).id;
  owner = (await viewerOf(owner.id))!;
  member = (await viewerOf(member.id))!;
});

const allStatuses: ReleaseStatus[] = [
  "draft",
  "pending_review",
  "approved",
  "rejected",
  "deprecated",
  "disabled",
  "revoked",
];
const actorFor = (action: ReleaseAction) =>
  transitions[action].who === "member" ? () => member : transitions[action].who === "owner" ? () => owner : () => admin;

describe("transitions", () => {
  const cases = releaseActions.flatMap((action) =>
    allStatuses.map((status) => [action, status, transitions[action].from.includes(status)] as const),
  );
  it.each(cases)("%s from %s: legal=%s", async (action, status, legal) => {
    const versionId = await versionIn(status);
    const before = await auditCount(versionId);
    const result = await changeRelease(actorFor(action)(), { versionId, action, reason: "checked" });
    if (legal) {
      expect(result).toMatchObject({ ok: true, data: { status: transitions[action].to } });
      expect(await statusOf(versionId)).toBe(transitions[action].to);
      expect(await auditCount(versionId)).toBe(before + 1);
    } else {
      expect(result).toMatchObject({ ok: false, code: "conflict" });
      if (!result.ok) expect(result.message).toMatch(/^You can't .* this version: it is /);
      expect(await statusOf(versionId)).toBe(status);
      expect(await auditCount(versionId)).toBe(before);
    }
  });
});

describe("who may change what", () => {
  it("refuses approval by the version's own producer, even an admin (four-eyes)", async () => {
    const versionId = await versionIn("pending_review", admin.id);
    const result = await changeRelease(admin, { versionId, action: "approve" });
    expect(result).toMatchObject({ ok: false, code: "forbidden" });
    if (!result.ok) expect(result.message).toMatch(/four-eyes/);
    expect(await statusOf(versionId)).toBe("pending_review");
    expect(await changeRelease(secondAdmin, { versionId, action: "approve" })).toMatchObject({ ok: true });
    const [review] = await db().select().from(reviews).where(eq(reviews.versionId, versionId));
    expect(review).toMatchObject({ decision: "approved", reviewerId: secondAdmin.id });
  });

  // A build's output is produced by whoever started the build and whoever wrote any revision of the
  // recipe up to the built one, not only by the person recorded as its creator.
  it.each([
    ["wrote the built revision", () => [admin], () => member],
    ["wrote an earlier revision the built one was edited from", () => [admin, member], () => owner],
  ])(
    "refuses approval by an admin who %s while someone else started the build; another admin approves",
    async (_case, authors, starter) => {
      const { versionId } = await createTestBuildOutput({ projectId, authors: authors(), starter: starter() });
      const refused = await changeRelease(admin, { versionId, action: "approve" });
      expect(refused).toMatchObject({ ok: false, code: "forbidden" });
      if (!refused.ok) expect(refused.message).toMatch(/wrote part of the recipe .* \(four-eyes rule\)/);
      expect(await statusOf(versionId)).toBe("pending_review");
      // Every producer is named in the queue and on the version page, which offers them no approval.
      const expected = [...new Set([...authors(), starter()].map((person) => person.email))].sort();
      const queued = (await listPendingReviews()).find((item) => item.id === versionId);
      expect(queued!.producers.map((person) => person.email)).toEqual(expected);
      const [row] = await db()
        .select({ imageId: imageVersions.imageId, version: imageVersions.version })
        .from(imageVersions)
        .where(eq(imageVersions.id, versionId));
      const [image] = await db().select({ slug: images.slug }).from(images).where(eq(images.id, row!.imageId));
      const detail = await getVersionDetail({ viewer: secondAdmin, imageSlug: image!.slug, version: row!.version });
      expect(detail!.producers.map((person) => person.email)).toEqual(expected);
      expect(await changeRelease(secondAdmin, { versionId, action: "approve" })).toMatchObject({
        ok: true,
        data: { status: "approved" },
      });
    },
  );

  it("refuses reviews by members and owners through a direct action call", async () => {
    const versionId = await versionIn("pending_review", outsider.id);
    for (const caller of [member, owner]) {
      expect(await changeRelease(caller, { versionId, action: "approve" })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      expect(await changeRelease(caller, { versionId, action: "reject", reason: "no" })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
    }
    expect(await changeRelease(outsider, { versionId, action: "approve" })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await changeRelease(null, { versionId, action: "approve" })).toMatchObject({
      ok: false,
      code: "unauthenticated",
    });
    expect(await statusOf(versionId)).toBe("pending_review");
  });

  it("requires a reason to reject", async () => {
    const versionId = await versionIn("pending_review");
    const result = await changeRelease(admin, { versionId, action: "reject", reason: "  " });
    expect(result).toMatchObject({
      ok: false,
      code: "invalid",
      fieldErrors: { reason: ["A reason is required to reject."] },
    });
    expect(await statusOf(versionId)).toBe("pending_review");
  });

  it("lets exactly one of two concurrent reviewers win", async () => {
    const versionId = await versionIn("pending_review", outsider.id);
    const results = await Promise.all([
      changeRelease(admin, { versionId, action: "approve" }),
      changeRelease(secondAdmin, { versionId, action: "reject", reason: "broken" }),
    ]);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    const loser = results.find((result) => !result.ok);
    expect(loser).toMatchObject({ ok: false, code: "conflict" });
    expect((await db().select({ n: count() }).from(reviews).where(eq(reviews.versionId, versionId)))[0]!.n).toBe(1);
  });
});

describe("deleting versions", () => {
  it("refuses while anything depends on the version, naming it, and deletes once nothing does", async () => {
    const parent = await versionIn("approved");
    const child = await versionIn("pending_review");
    await db().update(imageVersions).set({ parentVersionId: parent }).where(eq(imageVersions.id, child));
    expect(await deleteVersionAction(member, { versionId: parent })).toMatchObject({ ok: false, code: "forbidden" });
    const refused = await deleteVersionAction(owner, { versionId: parent });
    expect(refused).toMatchObject({ ok: false, code: "conflict" });
    if (!refused.ok)
      expect(refused.message).toMatch(
        /can't be deleted while other things depend on it: .* \(built or cloned from it\)/,
      );
    expect(await statusOf(parent)).toBe("approved");
    expect(await deleteVersionAction(owner, { versionId: child })).toMatchObject({ ok: true });
    expect(await deleteVersionAction(owner, { versionId: parent })).toMatchObject({ ok: true });
    expect(await db().select().from(imageVersions).where(eq(imageVersions.id, parent))).toHaveLength(0);
  });
});

describe("using a version's bytes", () => {
  it("keeps disabled and revoked versions from non-admins, and unreleased ones inside their project", async () => {
    const image = await createTestImage({
      projectId,
      visibility: "public",
      versions: [
        { version: "d", releaseStatus: "draft" },
        { version: "x", releaseStatus: "disabled" },
        { version: "a", releaseStatus: "approved" },
      ],
    });
    const ids = Object.fromEntries(
      (
        await db()
          .select({ id: imageVersions.id, version: imageVersions.version })
          .from(imageVersions)
          .where(eq(imageVersions.imageId, image.id))
      ).map((row) => [row.version, row.id]),
    );
    const usable = async (viewer: Viewer, version: string) =>
      (await getDownloadableVersion({ viewer, versionId: ids[version]! })) !== null;
    expect(await usable(member, "d")).toBe(true);
    expect(await usable(outsider, "d")).toBe(false);
    expect(await usable(outsider, "a")).toBe(true);
    expect(await usable(member, "x")).toBe(false);
    expect(await usable(admin, "x")).toBe(true);
  });
});

describe("retiring versions", () => {
  it("revokes in one statement set: every descendant at any depth is flagged", async () => {
    const root = await versionIn("approved");
    const child = await versionIn("approved");
    const grandchild = await versionIn("pending_review");
    const unrelated = await versionIn("approved");
    await db().update(imageVersions).set({ parentVersionId: root }).where(eq(imageVersions.id, child));
    await db().update(imageVersions).set({ parentVersionId: child }).where(eq(imageVersions.id, grandchild));
    expect(await changeRelease(admin, { versionId: root, action: "revoke", reason: "CVE" })).toMatchObject({
      ok: true,
    });
    const flagged = await db()
      .select({ id: imageVersions.id, ancestor: imageVersions.revokedAncestorId })
      .from(imageVersions);
    const ancestorOf = new Map(flagged.map((row) => [row.id, row.ancestor]));
    expect(ancestorOf.get(child)).toBe(root);
    expect(ancestorOf.get(grandchild)).toBe(root);
    expect(ancestorOf.get(unrelated)).toBeNull();
  });

  it("takes a replacement only if it is approved", async () => {
    const versionId = await versionIn("approved");
    const pending = await versionIn("pending_review");
    const approved = await versionIn("approved");
    expect(await changeRelease(owner, { versionId, action: "deprecate", replacementVersionId: pending })).toMatchObject(
      { ok: false, code: "invalid" },
    );
    expect(
      await changeRelease(owner, { versionId, action: "deprecate", replacementVersionId: approved }),
    ).toMatchObject({ ok: true });
    const [row] = await db()
      .select({ replacement: imageVersions.replacementVersionId })
      .from(imageVersions)
      .where(eq(imageVersions.id, versionId));
    expect(row!.replacement).toBe(approved);
  });

  it("refuses a date in the past, and applies a scheduled deprecation when it is due", async () => {
    const versionId = await versionIn("approved");
    expect(
      await changeRelease(owner, { versionId, action: "deprecate", at: new Date(Date.now() - 60_000).toISOString() }),
    ).toMatchObject({ ok: false, code: "invalid" });
    const at = new Date(Date.now() + 60 * 60_000);
    expect(
      await changeRelease(owner, { versionId, action: "deprecate", at: at.toISOString(), reason: "old" }),
    ).toMatchObject({ ok: true, data: { status: "approved" } });
    expect(await statusOf(versionId)).toBe("approved");
    await applyDueScheduledReleases({ now: new Date() });
    expect(await statusOf(versionId)).toBe("approved");
    await applyDueScheduledReleases({ now: new Date(at.getTime() + 1000) });
    expect(await statusOf(versionId)).toBe("deprecated");
    const [schedule] = await db().select().from(scheduledReleases).where(eq(scheduledReleases.versionId, versionId));
    expect(schedule).toMatchObject({ outcome: "applied" });
    // Applying again does nothing: each schedule runs once.
    await applyDueScheduledReleases({ now: new Date(at.getTime() + 2000) });
    expect(
      (
        await db()
          .select({ n: count() })
          .from(auditEvents)
          .where(and(eq(auditEvents.objectId, versionId), eq(auditEvents.action, "release.deprecate")))
      )[0]!.n,
    ).toBe(1);
  });

  it("skips a scheduled change that became illegal, saying why", async () => {
    const versionId = await versionIn("approved");
    const at = new Date(Date.now() + 60_000);
    expect(await changeRelease(admin, { versionId, action: "disable", at: at.toISOString() })).toMatchObject({
      ok: true,
    });
    expect(await changeRelease(admin, { versionId, action: "revoke", reason: "now" })).toMatchObject({ ok: true });
    await applyDueScheduledReleases({ now: new Date(at.getTime() + 1000) });
    expect(await statusOf(versionId)).toBe("revoked");
    const [schedule] = await db().select().from(scheduledReleases).where(eq(scheduledReleases.versionId, versionId));
    expect(schedule!.outcome).toMatch(/^skipped: You can't disable this version: it is revoked/);
  });
});
