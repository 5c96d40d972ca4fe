// Retention rules per image: the rule row, the facts the planner (lib/retention/plan.ts) needs,
// and the two changes a run makes. Those go through the same state change and deletion as a
// person's (applyChange, deleteUnusedVersion: same transition checks, dependants, audit), with a
// `retention.*` audit event beside them saying which rule asked for it.
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import type { RetentionRule, RetentionVersion } from "@/lib/retention/plan";
import { db } from "../client";
import { imageVersions, images, retentionRules, type ReleaseStatus } from "../schema";
import { canInProject, requireOnImage, visibleImagesCondition } from "./access";
import { recordAudit } from "./audit";
import { applyChange, deleteUnusedVersion, versionDependants } from "./releases";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";

export interface RetentionImage {
  id: string;
  slug: string;
  projectId: string;
}

/** The image whose rule the viewer reads or changes; throws unless they may manage it (owners, admins). */
export async function requireRetentionImage({
  viewer,
  imageId,
  slug,
  action,
}: {
  viewer: Viewer;
  imageId?: string;
  slug?: string;
  action: string;
}): Promise<RetentionImage> {
  const image = await findRetentionImage({ imageId, slug, viewer });
  requireOnImage(viewer, image, "manage", action);
  return { id: image!.id, slug: image!.slug, projectId: image!.projectId };
}

/** An image by id or slug; `visible` says whether the viewer (when given) sees it at all. */
export async function findRetentionImage({
  imageId,
  slug,
  viewer,
}: {
  imageId?: string;
  slug?: string;
  viewer?: Viewer;
}): Promise<(RetentionImage & { visible: boolean }) | null> {
  if (imageId !== undefined && !isUuid(imageId)) return null;
  const where = imageId !== undefined ? eq(images.id, imageId) : slug !== undefined ? eq(images.slug, slug) : null;
  if (!where) return null;
  const [row] = await db()
    .select({
      id: images.id,
      slug: images.slug,
      projectId: images.projectId,
      visible: viewer ? sql<boolean>`${visibleImagesCondition(viewer, "images")}` : sql<boolean>`true`,
    })
    .from(images)
    .where(where)
    .limit(1);
  return row ?? null;
}

export interface StoredRetentionRule extends RetentionRule {
  enabled: boolean;
  updatedAt: Date | null;
  lastRunAt: Date | null;
  lastRunSummary: RetentionRunSummary | null;
}

export interface RetentionRunSummary {
  dryRun: boolean;
  deprecated: number;
  deleted: number;
  refused: number;
  failed: number;
  /** One line per change, in the planner's order (at most 100). */
  changes: { kind: string; version: string; reason: string; outcome: string }[];
}

/** The image's rule; every part off and disabled when none was saved. */
export async function getRetentionRule({ imageId }: { imageId: string }): Promise<StoredRetentionRule> {
  const [row] = await db()
    .select({
      keepNewestApproved: retentionRules.keepNewestApproved,
      deprecateAfterDays: retentionRules.deprecateAfterDays,
      deleteDeprecatedAfterDays: retentionRules.deleteDeprecatedAfterDays,
      enabled: retentionRules.enabled,
      updatedAt: retentionRules.updatedAt,
      lastRunAt: retentionRules.lastRunAt,
      lastRunSummary: retentionRules.lastRunSummary,
    })
    .from(retentionRules)
    .where(eq(retentionRules.imageId, imageId));
  if (!row)
    return {
      keepNewestApproved: null,
      deprecateAfterDays: null,
      deleteDeprecatedAfterDays: null,
      enabled: false,
      updatedAt: null,
      lastRunAt: null,
      lastRunSummary: null,
    };
  return { ...row, lastRunSummary: (row.lastRunSummary as RetentionRunSummary | null) ?? null };
}

/** Saves the image's rule (one per image), audited with before and after. */
export async function saveRetentionRule({
  actorId,
  imageId,
  rule,
}: {
  actorId: string | null;
  imageId: string;
  rule: RetentionRule & { enabled: boolean };
}): Promise<void> {
  const before = await getRetentionRule({ imageId });
  await db().transaction(async (tx) => {
    const values = {
      keepNewestApproved: rule.keepNewestApproved,
      deprecateAfterDays: rule.deprecateAfterDays,
      deleteDeprecatedAfterDays: rule.deleteDeprecatedAfterDays,
      enabled: rule.enabled,
      updatedById: actorId,
      updatedAt: sql`now()`,
    };
    await tx
      .insert(retentionRules)
      .values({ imageId, ...values })
      .onConflictDoUpdate({ target: retentionRules.imageId, set: values });
    await recordAudit(
      {
        actorId,
        action: "retention.rule-set",
        objectType: "image",
        objectId: imageId,
        before: before.updatedAt
          ? {
              keepNewestApproved: before.keepNewestApproved,
              deprecateAfterDays: before.deprecateAfterDays,
              deleteDeprecatedAfterDays: before.deleteDeprecatedAfterDays,
              enabled: before.enabled,
            }
          : null,
        after: rule,
      },
      tx,
    );
  });
}

/** Images whose rule is enabled, for the daily run. */
export async function listImagesWithEnabledRetention(): Promise<RetentionImage[]> {
  return db()
    .select({ id: images.id, slug: images.slug, projectId: images.projectId })
    .from(retentionRules)
    .innerJoin(images, eq(images.id, retentionRules.imageId))
    .where(eq(retentionRules.enabled, true))
    .orderBy(asc(images.slug));
}

/**
 * The image's versions as the planner sees them. Approval and deprecation dates are the newest
 * approving review and the newest deprecation audit event (a person's or retention's); the
 * dependants are only looked up for deprecated versions, the only ones a rule may delete.
 */
export async function listRetentionVersions({ imageId }: { imageId: string }): Promise<RetentionVersion[]> {
  const rows = await db()
    .select({
      id: imageVersions.id,
      version: imageVersions.version,
      releaseStatus: imageVersions.releaseStatus,
      createdAt: imageVersions.createdAt,
      // Spelled out: inside these subqueries drizzle's unqualified column names would mean the inner table's.
      approvedAt: sql<
        string | null
      >`(select max(r.created_at) from reviews r where r.version_id = image_versions.id and r.decision = 'approved')`,
      deprecatedAt: sql<
        string | null
      >`(select max(a.at) from audit_events a where a.object_type = 'version' and a.object_id = image_versions.id::text and a.action = 'release.deprecate')`,
    })
    .from(imageVersions)
    .where(and(eq(imageVersions.imageId, imageId), eq(imageVersions.dataStatus, "ready")))
    .orderBy(desc(imageVersions.createdAt));
  return Promise.all(
    rows.map(async (row) => ({
      id: row.id,
      version: row.version,
      releaseStatus: row.releaseStatus,
      createdAt: row.createdAt,
      approvedAt: row.approvedAt ? new Date(row.approvedAt) : null,
      deprecatedAt: row.deprecatedAt ? new Date(row.deprecatedAt) : null,
      dependants: row.releaseStatus === "deprecated" ? await versionDependants(row.id) : [],
    })),
  );
}

interface RetentionChangeTarget {
  actorId: string | null;
  /** Who acted, for the audit event: a person (actorId) or the daily job. */
  by: string;
  imageId: string;
  versionId: string;
  reason: string;
}

/** Deprecates an approved version as the rule asks; throws (nothing changed) if its state moved on. */
export async function deprecateVersionForRetention({
  actorId,
  by,
  imageId,
  versionId,
  reason,
}: RetentionChangeTarget): Promise<void> {
  await db().transaction(async (tx) => {
    await applyChange(tx, {
      actorId,
      versionId,
      imageId,
      action: "deprecate",
      reason: `Retention rule: ${reason}`,
      replacementVersionId: null,
    });
    await recordAudit(
      {
        actorId,
        action: "retention.deprecate",
        objectType: "version",
        objectId: versionId,
        before: { releaseStatus: "approved" },
        after: { releaseStatus: "deprecated", reason, by },
      },
      tx,
    );
  });
}

/** Deletes a deprecated version as the rule asks; throws (nothing changed) if something depends on it now. */
export async function deleteVersionForRetention({
  actorId,
  by,
  imageId,
  versionId,
  reason,
}: RetentionChangeTarget): Promise<{ version: string }> {
  return db().transaction(async (tx) => {
    const [row] = await tx
      .select({ version: imageVersions.version, releaseStatus: imageVersions.releaseStatus })
      .from(imageVersions)
      .where(and(eq(imageVersions.id, versionId), eq(imageVersions.imageId, imageId)))
      .for("update");
    if (!row) throw new HangarError("conflict", "That version was deleted in the meantime; nothing was changed.");
    // Someone may have reinstated it since the plan was made: a rule only deletes deprecated versions.
    if (row.releaseStatus !== "deprecated")
      throw new HangarError("conflict", `${row.version} is no longer deprecated; it was kept.`);
    await deleteUnusedVersion(tx, {
      actorId,
      version: { id: versionId, imageId, version: row.version, releaseStatus: row.releaseStatus as ReleaseStatus },
    });
    await recordAudit(
      {
        actorId,
        action: "retention.delete",
        objectType: "version",
        objectId: versionId,
        before: { imageId, version: row.version, releaseStatus: row.releaseStatus },
        after: { reason, by },
      },
      tx,
    );
    return { version: row.version };
  });
}

/** Stores when the rule last ran and what it did. */
export async function recordRetentionRun({
  imageId,
  at,
  summary,
}: {
  imageId: string;
  at: Date;
  summary: RetentionRunSummary;
}): Promise<void> {
  await db()
    .update(retentionRules)
    .set({ lastRunAt: at, lastRunSummary: summary })
    .where(eq(retentionRules.imageId, imageId));
}

/** The image's rule for its page: null unless the viewer may manage the image (owners, admins). */
export async function getRetentionRuleForViewer({
  viewer,
  image,
}: {
  viewer: Viewer;
  image: { id: string; projectId: string };
}): Promise<StoredRetentionRule | null> {
  if (!canInProject(viewer, image.projectId, "manage")) return null;
  return getRetentionRule({ imageId: image.id });
}
