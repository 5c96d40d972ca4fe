// Retention on real versions in the real database: the plan, a dry run that changes nothing, a
// run that deprecates and deletes through the release rules with audit rows, dependants that are
// never deleted, the daily run over enabled rules only, and callers who may not.
import { runAdmin } from "@/tests/admin-command";
import { and, eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { auditEvents, channels, imageVersions, retentionRules, reviews } from "@/db/schema";
import { deleteVersionForRetention, getRetentionRule } from "@/db/queries/retention";
import type { Viewer } from "@/db/queries/users";
import {
  getRetentionRuleAction,
  previewRetentionAction,
  runRetentionAction,
  setRetentionRuleAction,
} from "@/lib/actions/retention-actions";
import { createTestImage, createTestProject, createTestUser, viewerOf } from "@/tests/fixtures";
import { DAILY_JOB_LABEL, runAllRetention, runRetention } from "./run";

const DAY = 24 * 60 * 60 * 1000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

let admin: Viewer;
let owner: Viewer;
let member: Viewer;
let otherOwner: Viewer;
let projectId: string;

beforeAll(async () => {
  [admin, owner, member, otherOwner] = await Promise.all([
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
  await createTestProject({ members: [{ viewer: otherOwner, role: "owner" }] });
  owner = (await viewerOf(owner.id))!;
  member = (await viewerOf(member.id))!;
  otherOwner = (await viewerOf(otherOwner.id))!;
});

/** 0.8 and 0.9 deprecated long ago (a channel points at 0.9), 1.0–1.2 approved, 1.2 recent. */
async function imageWithHistory() {
  const image = await createTestImage({
    projectId,
    versions: [
      { version: "0.8", releaseStatus: "deprecated", createdAt: daysAgo(400) },
      { version: "0.9", releaseStatus: "deprecated", createdAt: daysAgo(390) },
      { version: "1.0", releaseStatus: "approved", createdAt: daysAgo(200) },
      { version: "1.1", releaseStatus: "approved", createdAt: daysAgo(100) },
      { version: "1.2", releaseStatus: "approved", createdAt: daysAgo(5) },
      { version: "1.3", releaseStatus: "pending_review", createdAt: daysAgo(1) },
    ],
  });
  const rows = await db()
    .select({ id: imageVersions.id, version: imageVersions.version })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, image.id));
  const ids = Object.fromEntries(rows.map((row) => [row.version, row.id])) as Record<string, string>;
  await db().insert(channels).values({ imageId: image.id, name: "legacy", versionId: ids["0.9"]! });
  return { image, ids };
}

const rule = { keepNewestApproved: 1, deprecateAfterDays: 30, deleteDeprecatedAfterDays: 60, enabled: true };

async function statuses(imageId: string): Promise<Record<string, string>> {
  const rows = await db()
    .select({ version: imageVersions.version, status: imageVersions.releaseStatus })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, imageId));
  return Object.fromEntries(rows.map((row) => [row.version, row.status]));
}

/** What happened to the versions after they were created. */
async function auditFor(ids: string[]) {
  const rows = await db()
    .select({
      action: auditEvents.action,
      actorId: auditEvents.actorId,
      objectId: auditEvents.objectId,
      after: auditEvents.after,
    })
    .from(auditEvents)
    .where(and(eq(auditEvents.objectType, "version"), inArray(auditEvents.objectId, ids)));
  return rows.filter((row) => row.action !== "version.create");
}

const before = {
  "0.8": "deprecated",
  "0.9": "deprecated",
  "1.0": "approved",
  "1.1": "approved",
  "1.2": "approved",
  "1.3": "pending_review",
};

describe("retention on real versions", () => {
  it("previews exactly what would change and why, and a dry run changes nothing", async () => {
    const { image, ids } = await imageWithHistory();
    expect(await setRetentionRuleAction(owner, { imageId: image.id, ...rule })).toMatchObject({ ok: true });

    const preview = await previewRetentionAction(owner, { imageId: image.id, ...rule });
    if (!preview.ok) throw new Error(preview.message);
    expect(preview.data.map((change) => [change.kind, change.version])).toEqual([
      ["deprecate", "1.0"],
      ["deprecate", "1.1"],
      ["delete", "0.8"],
      ["refused-delete", "0.9"],
    ]);
    expect(preview.data[3]!.reason).toMatch(/channel legacy \(points at it\)/);

    const dry = await runRetention({
      image: { ...image, projectId },
      actor: { kind: "viewer", viewer: owner },
      dryRun: true,
    });
    expect(dry.summary).toMatchObject({ dryRun: true, deprecated: 2, deleted: 1, refused: 1, failed: 0 });
    expect(await statuses(image.id)).toEqual(before);
    expect(await auditFor(Object.values(ids))).toEqual([]);
    expect((await getRetentionRule({ imageId: image.id })).lastRunAt).toBeNull();
  });

  it("runs: deprecates and deletes through the release rules, never what something depends on, audited", async () => {
    const { image, ids } = await imageWithHistory();
    expect(await setRetentionRuleAction(owner, { imageId: image.id, ...rule })).toMatchObject({ ok: true });

    const result = await runRetentionAction(owner, { imageId: image.id });
    if (!result.ok) throw new Error(result.message);
    expect(result.data.summary).toMatchObject({ dryRun: false, deprecated: 2, deleted: 1, refused: 1, failed: 0 });
    expect(await statuses(image.id)).toEqual({
      "0.9": "deprecated",
      "1.0": "deprecated",
      "1.1": "deprecated",
      "1.2": "approved",
      "1.3": "pending_review",
    });

    const audit = await auditFor(Object.values(ids));
    const actions = (id: string) =>
      audit
        .filter((row) => row.objectId === id)
        .map((row) => row.action)
        .sort();
    expect(actions(ids["1.0"]!)).toEqual(["release.deprecate", "retention.deprecate"]);
    expect(actions(ids["1.1"]!)).toEqual(["release.deprecate", "retention.deprecate"]);
    expect(actions(ids["0.8"]!)).toEqual(["retention.delete", "version.delete"]);
    expect(actions(ids["0.9"]!)).toEqual([]);
    expect(audit.every((row) => row.actorId === owner.id)).toBe(true);

    const stored = await getRetentionRule({ imageId: image.id });
    expect(stored.lastRunAt).toBeInstanceOf(Date);
    expect(stored.lastRunSummary).toMatchObject({ deprecated: 2, deleted: 1, refused: 1 });

    // A second run finds nothing more to do today; 0.9 is still kept.
    const again = await runRetentionAction(owner, { imageId: image.id });
    if (!again.ok) throw new Error(again.message);
    expect(again.data.summary).toMatchObject({ deprecated: 0, deleted: 0, refused: 1 });
  });

  it("counts an approved version's age from its approval", async () => {
    const { image, ids } = await imageWithHistory();
    await db().insert(reviews).values({ versionId: ids["1.0"]!, reviewerId: admin.id, decision: "approved" });
    const preview = await previewRetentionAction(owner, { imageId: image.id, ...rule });
    if (!preview.ok) throw new Error(preview.message);
    expect(preview.data.filter((change) => change.kind === "deprecate").map((change) => change.version)).toEqual([
      "1.1",
    ]);
  });

  it("re-checks under the row lock: a version reinstated since the plan is not deleted", async () => {
    const { image, ids } = await imageWithHistory();
    await expect(
      deleteVersionForRetention({
        actorId: null,
        by: DAILY_JOB_LABEL,
        imageId: image.id,
        versionId: ids["1.0"]!,
        reason: "planned before it was reinstated",
      }),
    ).rejects.toThrow("1.0 is no longer deprecated; it was kept.");
    expect(await statuses(image.id)).toEqual(before);
    expect(await auditFor(Object.values(ids))).toEqual([]);
  });

  it("never deletes a version another version was built or cloned from", async () => {
    const { image, ids } = await imageWithHistory();
    const child = await createTestImage({ projectId, versions: [{ version: "child", releaseStatus: "approved" }] });
    await db().update(imageVersions).set({ parentVersionId: ids["0.8"]! }).where(eq(imageVersions.imageId, child.id));
    expect(await setRetentionRuleAction(admin, { imageId: image.id, ...rule })).toMatchObject({ ok: true });
    const result = await runRetentionAction(admin, { imageId: image.id });
    if (!result.ok) throw new Error(result.message);
    const refused = result.data.changes.find((change) => change.version === "0.8")!;
    expect(refused).toMatchObject({ kind: "refused-delete", outcome: "kept" });
    expect(refused.reason).toMatch(/built or cloned from it/);
    expect((await statuses(image.id))["0.8"]).toBe("deprecated");
  });

  it("the daily run applies enabled rules only, as the system", async () => {
    const enabled = await imageWithHistory();
    const disabled = await imageWithHistory();
    await setRetentionRuleAction(owner, { imageId: enabled.image.id, ...rule });
    await setRetentionRuleAction(owner, { imageId: disabled.image.id, ...rule, enabled: false });
    const reports = await runAllRetention({ log: () => {} });
    expect(reports.some((report) => report.image.id === enabled.image.id)).toBe(true);
    expect(reports.some((report) => report.image.id === disabled.image.id)).toBe(false);
    expect((await statuses(enabled.image.id))["1.0"]).toBe("deprecated");
    expect(await statuses(disabled.image.id)).toEqual(before);
    const audit = await auditFor([enabled.ids["1.0"]!]);
    const retention = audit.find((row) => row.action === "retention.deprecate")!;
    expect(retention.actorId).toBeNull();
    expect(retention.after).toMatchObject({ by: DAILY_JOB_LABEL });
  });
});

describe("npm run admin -- retention run", () => {
  async function admin_(argv: string[]) {
    const { code, out, err } = await runAdmin(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  it("prints the plan with --dry-run and changes nothing, then applies it as the operator", async () => {
    const { image, ids } = await imageWithHistory();
    await setRetentionRuleAction(owner, { imageId: image.id, ...rule, enabled: false });
    const dry = await admin_(["retention", "run", "--image", image.slug, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(
      `${image.slug}: 2 to deprecate, 1 to delete, 1 kept because something depends on it (dry run, nothing changed)`,
    );
    expect(dry.out).toMatch(/0\.9\s+deprecated\s+refused-delete\s+planned\s+Deprecated \d+ days ago .*channel legacy/);
    expect(await statuses(image.id)).toEqual(before);

    const applied = await admin_(["retention", "run", "--image", image.slug]);
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(`${image.slug}: 2 deprecated, 1 deleted, 1 kept because something depends on it`);
    expect((await statuses(image.id))["1.0"]).toBe("deprecated");
    const retention = (await auditFor([ids["1.0"]!])).find((row) => row.action === "retention.deprecate")!;
    expect(retention).toMatchObject({ actorId: null, after: { by: "operator (CLI)" } });
  });

  it("refuses an unknown image with exit status 1", async () => {
    const result = await admin_(["retention", "run", "--image", "no-such-image-here"]);
    expect(result.code).toBe(1);
  });
});

describe("who may manage retention", () => {
  it.each([
    ["a member of the project who is not an owner", () => member, "forbidden"],
    ["an owner of another project", () => otherOwner, "not_found"],
  ])("refuses %s, and nothing changes", async (_who, caller, code) => {
    const { image, ids } = await imageWithHistory();
    await setRetentionRuleAction(owner, { imageId: image.id, ...rule, enabled: false });
    const savedBefore = await getRetentionRule({ imageId: image.id });

    for (const result of [
      await getRetentionRuleAction(caller(), { imageId: image.id }),
      await setRetentionRuleAction(caller(), { imageId: image.id, ...rule, keepNewestApproved: 5 }),
      await previewRetentionAction(caller(), { imageId: image.id, ...rule }),
      await runRetentionAction(caller(), { imageId: image.id }),
    ])
      expect(result).toMatchObject({ ok: false, code });

    expect(await getRetentionRule({ imageId: image.id })).toEqual(savedBefore);
    expect(await statuses(image.id)).toEqual(before);
    expect(await auditFor(Object.values(ids))).toEqual([]);
  });

  it("rejects a rule with a zero or fractional count, saving nothing", async () => {
    const { image } = await imageWithHistory();
    const result = await setRetentionRuleAction(owner, { imageId: image.id, ...rule, deprecateAfterDays: 0 });
    expect(result).toMatchObject({ ok: false, code: "invalid" });
    if (!result.ok) expect(result.fieldErrors?.deprecateAfterDays).toBeDefined();
    expect(await db().select().from(retentionRules).where(eq(retentionRules.imageId, image.id))).toEqual([]);
  });
});
