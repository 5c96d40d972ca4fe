// Release status changes: one function checks the caller, the transition and the four-eyes rule,
// then re-checks the transition under a row lock and changes the row (so of two reviewers at once
// exactly one wins), with the review, the revocation cascade and the audit event in the same
// transaction. Dates in the future become scheduled changes applied by the scheduler.
import { and, eq, isNull, lte, sql } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import {
  availableActions,
  bootGateRefusal,
  illegalTransition,
  isCurrentRelease,
  releaseActions,
  releaseRefusal,
  retiringActions,
  transitions,
  type BootGate,
  type ReleaseAction,
} from "@/lib/governance/release";
import { db, type Database } from "../client";
import { imageVersions, images, reviews, scheduledReleases, users, type ReleaseStatus } from "../schema";
import { recordAudit } from "./audit";
import { getBootGate } from "./boot-tests";
import { refreshImageLatest } from "./images";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { canInProject, releaseStandingOf, versionProducerIds, visibleVersionCondition } from "./access";

export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface ReleaseChange {
  versionId: string;
  action: ReleaseAction;
  reason?: string;
  replacementVersionId?: string | null;
  /** A moment in the future: the change is scheduled instead of applied now. */
  at?: Date | null;
}

/** The version as the viewer sees it, or null when they can't see it (so nothing tells them it exists). */
async function loadVersion(viewer: Viewer, versionId: string) {
  if (!isUuid(versionId)) return null;
  const [row] = await db()
    .select({
      id: imageVersions.id,
      imageId: imageVersions.imageId,
      version: imageVersions.version,
      dataStatus: imageVersions.dataStatus,
      releaseStatus: imageVersions.releaseStatus,
      producedByViewer: sql<boolean>`${viewer.id} in (${versionProducerIds("image_versions")})`,
      projectId: images.projectId,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(imageVersions.id, versionId), visibleVersionCondition(viewer)));
  return row ?? null;
}

/** Applies or schedules a release change for `viewer`. */
export async function changeReleaseStatus({
  viewer,
  change,
}: {
  viewer: Viewer;
  change: ReleaseChange;
}): Promise<{ status: ReleaseStatus; scheduledFor: Date | null }> {
  const version = await loadVersion(viewer, change.versionId);
  if (!version) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  // The same rule availableActions offers the page's buttons by; the state is checked below.
  const refusal = releaseRefusal(
    change.action,
    releaseStandingOf(viewer, version.projectId, { producer: version.producedByViewer }),
  );
  if (refusal) throw new HangarError("forbidden", refusal);
  const transition = transitions[change.action];
  if (version.dataStatus !== "ready")
    throw new HangarError(
      "conflict",
      "This version has no stored file yet (or its import failed); only ready versions can be released.",
    );
  const reason = (change.reason ?? "").trim();
  if (change.action === "reject" && !reason)
    throw new HangarError("invalid", "Say why you reject this version, so its author knows what to fix.", {
      reason: ["A reason is required to reject."],
    });
  const retiring = retiringActions.includes(change.action);
  if (!retiring && (change.replacementVersionId || change.at)) {
    throw new HangarError(
      "invalid",
      `Only deprecating, disabling or revoking can name a replacement or a date; ${transition.verb} happens now.`,
    );
  }
  if (change.replacementVersionId) {
    const replacement = await loadVersion(viewer, change.replacementVersionId);
    if (!replacement || replacement.id === version.id)
      throw new HangarError("invalid", "The replacement must be another version.", {
        replacementVersionId: ["Pick another version."],
      });
    if (!isCurrentRelease(replacement.releaseStatus)) {
      throw new HangarError(
        "invalid",
        `The replacement must be an approved version; ${replacement.version} is ${replacement.releaseStatus.replace("_", " ")}.`,
        { replacementVersionId: ["Pick an approved version."] },
      );
    }
  }
  const illegal = illegalTransition(change.action, version.releaseStatus);
  if (change.at) {
    if (change.at.getTime() <= Date.now())
      throw new HangarError(
        "invalid",
        "The date is in the past; pick a moment in the future, or apply the change now.",
        { at: ["Pick a future date."] },
      );
    // Scheduling is checked against today's state too; the scheduler checks again when it runs.
    if (illegal) throw new HangarError("conflict", illegal);
    await db().transaction(async (tx) => {
      const [row] = await tx
        .insert(scheduledReleases)
        .values({
          versionId: version.id,
          action: change.action,
          reason,
          replacementVersionId: change.replacementVersionId ?? null,
          runAt: change.at!,
          createdById: viewer.id,
        })
        .returning({ id: scheduledReleases.id });
      await recordAudit(
        {
          actorId: viewer.id,
          action: `release.schedule-${change.action}`,
          objectType: "version",
          objectId: version.id,
          after: { scheduleId: row!.id, runAt: change.at, reason },
        },
        tx,
      );
    });
    return { status: version.releaseStatus, scheduledFor: change.at };
  }
  if (illegal) throw new HangarError("conflict", illegal);
  if (change.action === "approve") {
    const held = bootGateRefusal(await getBootGate({ versionId: version.id }));
    if (held) throw new HangarError("conflict", `${held} Nothing was changed.`);
  }
  const status = await db().transaction((tx) =>
    applyChange(tx, {
      actorId: viewer.id,
      versionId: version.id,
      imageId: version.imageId,
      action: change.action,
      reason,
      replacementVersionId: change.replacementVersionId ?? null,
    }),
  );
  return { status, scheduledFor: null };
}

/**
 * The state change itself; refuses if someone changed the version first. The caller has decided
 * who may (changeReleaseStatus for a person, the scheduler and retention for the system).
 */
export async function applyChange(
  tx: Tx,
  {
    actorId,
    versionId,
    imageId,
    action,
    reason,
    replacementVersionId,
  }: {
    actorId: string | null;
    versionId: string;
    imageId: string;
    action: ReleaseAction;
    reason: string;
    replacementVersionId: string | null;
  },
): Promise<ReleaseStatus> {
  const transition = transitions[action];
  const [before] = await tx
    .select({ status: imageVersions.releaseStatus })
    .from(imageVersions)
    .where(eq(imageVersions.id, versionId))
    .for("update");
  // Checked again under the row lock: the caller saw an older state, or a schedule was made long ago.
  const illegal = before
    ? illegalTransition(action, before.status)
    : "That version was deleted in the meantime; nothing was changed.";
  if (illegal) throw new HangarError("conflict", illegal);
  await tx
    .update(imageVersions)
    .set({
      releaseStatus: transition.to,
      ...(retiringActions.includes(action)
        ? { replacementVersionId }
        : action === "reinstate"
          ? { replacementVersionId: null }
          : {}),
    })
    .where(eq(imageVersions.id, versionId));
  if (action === "approve" || action === "reject") {
    await tx
      .insert(reviews)
      .values({ versionId, reviewerId: actorId, decision: action === "approve" ? "approved" : "rejected", reason });
  }
  if (action === "revoke") {
    // Every descendant, through any depth of builds and clones, in one statement.
    await tx.execute(sql`
      with recursive descendants as (
        select id from image_versions where parent_version_id = ${versionId}
        union select v.id from image_versions v join descendants d on v.parent_version_id = d.id
      )
      update image_versions set revoked_ancestor_id = ${versionId}
      where id in (select id from descendants) and revoked_ancestor_id is null`);
  }
  await refreshImageLatest(tx, imageId);
  await recordAudit(
    {
      actorId,
      action: `release.${action}`,
      objectType: "version",
      objectId: versionId,
      before: { releaseStatus: before?.status },
      after: { releaseStatus: transition.to, reason, replacementVersionId },
    },
    tx,
  );
  return transition.to;
}

/** Applies every scheduled change that is due; each outcome is recorded on its row. */
export async function applyDueScheduledReleases({
  now = new Date(),
  onApplied,
}: {
  now?: Date;
  /** Called for each change once its transaction committed (webhook events). */
  onApplied?: (applied: { versionId: string; actorId: string | null; action: ReleaseAction }) => Promise<void>;
} = {}): Promise<number> {
  const due = await db()
    .select({
      id: scheduledReleases.id,
      versionId: scheduledReleases.versionId,
      action: scheduledReleases.action,
      reason: scheduledReleases.reason,
      replacementVersionId: scheduledReleases.replacementVersionId,
      createdById: scheduledReleases.createdById,
      imageId: imageVersions.imageId,
    })
    .from(scheduledReleases)
    .innerJoin(imageVersions, eq(imageVersions.id, scheduledReleases.versionId))
    .where(and(isNull(scheduledReleases.appliedAt), lte(scheduledReleases.runAt, now)))
    .orderBy(scheduledReleases.runAt)
    .limit(500);
  for (const row of due) {
    const applied = await db().transaction(async (tx) => {
      // Claim the row first so two schedulers never apply it twice.
      const [claimed] = await tx
        .update(scheduledReleases)
        .set({ appliedAt: sql`now()` })
        .where(and(eq(scheduledReleases.id, row.id), isNull(scheduledReleases.appliedAt)))
        .returning({ id: scheduledReleases.id });
      if (!claimed) return false;
      try {
        await tx.transaction(async (inner) => {
          await applyChange(inner, {
            actorId: row.createdById,
            versionId: row.versionId,
            imageId: row.imageId,
            action: row.action as ReleaseAction,
            reason: row.reason,
            replacementVersionId: row.replacementVersionId,
          });
        });
        await tx.update(scheduledReleases).set({ outcome: "applied" }).where(eq(scheduledReleases.id, row.id));
        return true;
      } catch (error) {
        const message = error instanceof HangarError ? error.message : "failed on the server";
        await tx
          .update(scheduledReleases)
          .set({ outcome: `skipped: ${message}` })
          .where(eq(scheduledReleases.id, row.id));
        return false;
      }
    });
    if (applied)
      await onApplied?.({ versionId: row.versionId, actorId: row.createdById, action: row.action as ReleaseAction });
  }
  return due.length;
}

export interface PendingReview {
  id: string;
  version: string;
  imageSlug: string;
  imageName: string;
  source: string;
  sourceUrl: string | null;
  format: string | null;
  virtualSize: number | null;
  fileSize: number | null;
  /** Everyone who produced it (see versionProducerIds), none of whom may approve it. */
  producers: { id: string; email: string }[];
  createdAt: Date;
  parentImageSlug: string | null;
  parentVersion: string | null;
  buildId: string | null;
  buildNumber: number | null;
  recipeId: string | null;
  revision: number | null;
  inspectionSafe: boolean | null;
  inspectionFormat: string | null;
  /** For builds: this revision and the one behind the previous build into the same image. */
  revisionDocument: RecipeDocument | null;
  previousBuild: { version: string; revision: number; recipeName: string; document: RecipeDocument } | null;
  /** Its newest boot test, if any. */
  bootTest: { id: string; status: string; result: string | null; durationMs: number | null } | null;
  /** Why approving is held back for now (a required boot test has not passed), or null. */
  approveHeldBack: string | null;
}

/** Every version waiting for review, oldest first, with what a reviewer needs to decide. */
export async function listPendingReviews(): Promise<PendingReview[]> {
  const result = await db().execute<Record<string, unknown>>(sql`
    select v.id, v.version, i.slug as image_slug, i.name as image_name, v.source, v.source_url, v.format, v.virtual_size, v.file_size,
           (select coalesce(json_agg(json_build_object('id', pu.id, 'email', pu.email) order by pu.email), '[]'::json)
              from users pu where pu.id in (${versionProducerIds("v")})) as producers,
           v.created_at, pi.slug as parent_image_slug, pv.version as parent_version,
           b.id as build_id, b.number as build_number, rr.recipe_id, rr.revision,
           (v.inspection->>'safe')::boolean as inspection_safe, v.inspection->>'format' as inspection_format,
           rr.document as revision_document, prev.version as prev_version, prev.revision as prev_revision, prev.recipe_name as prev_recipe_name, prev.document as prev_document,
           i.boot_test_required, bt.id as boot_test_id, bt.status as boot_status, bt.result as boot_result, bt.duration_ms as boot_duration_ms
    from image_versions v
    join images i on i.id = v.image_id
    left join image_versions pv on pv.id = v.parent_version_id
    left join images pi on pi.id = pv.image_id
    left join builds b on b.id = v.build_id
    left join recipe_revisions rr on rr.id = v.recipe_revision_id
    left join lateral (
      select pv.version, prr.revision, pr.name as recipe_name, prr.document
      from image_versions pv join recipe_revisions prr on prr.id = pv.recipe_revision_id join recipes pr on pr.id = prr.recipe_id
      where pv.image_id = v.image_id and pv.id <> v.id and (pv.created_at, pv.id) < (v.created_at, v.id)
      order by pv.created_at desc, pv.id desc limit 1
    ) prev on v.recipe_revision_id is not null
    left join lateral (
      select b.id, b.status, b.result, b.duration_ms from boot_tests b where b.version_id = v.id order by b.queued_at desc, b.id desc limit 1
    ) bt on true
    where v.release_status = 'pending_review'
    order by v.created_at, v.id
    limit 500`);
  const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return result.rows.map((row) => ({
    id: String(row.id),
    version: String(row.version),
    imageSlug: String(row.image_slug),
    imageName: String(row.image_name),
    source: String(row.source),
    sourceUrl: (row.source_url as string | null) ?? null,
    format: (row.format as string | null) ?? null,
    virtualSize: num(row.virtual_size),
    fileSize: num(row.file_size),
    producers: row.producers as { id: string; email: string }[],
    createdAt: new Date(String(row.created_at)),
    parentImageSlug: (row.parent_image_slug as string | null) ?? null,
    parentVersion: (row.parent_version as string | null) ?? null,
    buildId: (row.build_id as string | null) ?? null,
    buildNumber: num(row.build_number),
    recipeId: (row.recipe_id as string | null) ?? null,
    revision: num(row.revision),
    inspectionSafe: (row.inspection_safe as boolean | null) ?? null,
    inspectionFormat: (row.inspection_format as string | null) ?? null,
    revisionDocument: (row.revision_document as RecipeDocument | null) ?? null,
    previousBuild: row.prev_version
      ? {
          version: String(row.prev_version),
          revision: Number(row.prev_revision),
          recipeName: String(row.prev_recipe_name),
          document: row.prev_document as RecipeDocument,
        }
      : null,
    bootTest: row.boot_test_id
      ? {
          id: String(row.boot_test_id),
          status: String(row.boot_status),
          result: (row.boot_result as string | null) ?? null,
          durationMs: num(row.boot_duration_ms),
        }
      : null,
    approveHeldBack: bootGateRefusal({
      required: Boolean(row.boot_test_required),
      latest: row.boot_test_id
        ? {
            status: row.boot_status as NonNullable<BootGate["latest"]>["status"],
            result: (row.boot_result as string | null) ?? null,
          }
        : null,
    }),
  }));
}

/** The decisions on a version, newest first, for its author and reviewers. */
export async function listReviews({ versionId }: { versionId: string }) {
  return db()
    .select({ decision: reviews.decision, reason: reviews.reason, createdAt: reviews.createdAt, reviewer: users.email })
    .from(reviews)
    .leftJoin(users, eq(users.id, reviews.reviewerId))
    .where(eq(reviews.versionId, versionId))
    .orderBy(sql`${reviews.createdAt} desc`);
}

/** What still depends on a version: each entry is a sentence naming the dependant. */
export async function versionDependants(versionId: string): Promise<string[]> {
  const result = await db().execute<{ kind: string; label: string }>(sql`
    select 'descendant' as kind, i.slug || ' ' || v.version as label from image_versions v join images i on i.id = v.image_id where v.parent_version_id = ${versionId} and v.backing_version_id is distinct from ${versionId}
    union all select 'linked', i.slug || ' ' || v.version from image_versions v join images i on i.id = v.image_id where v.backing_version_id = ${versionId}
    union all select 'clone', 'a clone into ' || p.slug from clones c join projects p on p.id = c.project_id where c.source_version_id = ${versionId} and c.status in ('queued', 'running')
    union all select 'recipe', r.name || ' revision ' || rr.revision from recipe_revisions rr join recipes r on r.id = rr.recipe_id where rr.base_version_id = ${versionId}
    union all select 'build', 'build #' || b.number from builds b where b.base_version_id = ${versionId}
    union all select 'channel', 'channel ' || c.name from channels c where c.version_id = ${versionId}
    union all select 'replacement', i.slug || ' ' || v.version from image_versions v join images i on i.id = v.image_id where v.replacement_version_id = ${versionId}
    limit 50`);
  const words: Record<string, string> = {
    descendant: "built or cloned from it",
    linked: "a linked clone whose overlay reads from it",
    clone: "being made from it",
    recipe: "pinned to it",
    build: "ran on it",
    channel: "points at it",
    replacement: "names it as replacement",
  };
  return result.rows.map((row) => `${row.label} (${words[row.kind]})`);
}

/** Deletes a version nothing depends on; otherwise refuses with the list of dependants. */
export async function deleteVersion({
  viewer,
  versionId,
}: {
  viewer: Viewer;
  versionId: string;
}): Promise<{ projectId: string; imageId: string; version: string; releaseStatus: ReleaseStatus }> {
  const version = await loadVersion(viewer, versionId);
  if (!version) throw new HangarError("not_found", "That version doesn't exist or you can't see it.");
  if (!canInProject(viewer, version.projectId, "manage"))
    throw new HangarError(
      "forbidden",
      "Only owners of the image's project and admins can delete versions. Nothing was changed.",
    );
  await db().transaction((tx) => deleteUnusedVersion(tx, { actorId: viewer.id, version }));
  return {
    projectId: version.projectId,
    imageId: version.imageId,
    version: version.version,
    releaseStatus: version.releaseStatus,
  };
}

/**
 * Deletes a version under a row lock unless something depends on it (then refuses naming what),
 * with the audit event in the same transaction. The caller has decided who may.
 */
export async function deleteUnusedVersion(
  tx: Tx,
  {
    actorId,
    version,
  }: {
    actorId: string | null;
    version: { id: string; imageId: string; version: string; releaseStatus: ReleaseStatus };
  },
): Promise<void> {
  const [locked] = await tx
    .select({ id: imageVersions.id })
    .from(imageVersions)
    .where(eq(imageVersions.id, version.id))
    .for("update");
  if (!locked) throw new HangarError("conflict", "That version was deleted in the meantime; nothing was changed.");
  const dependants = await versionDependants(version.id);
  if (dependants.length) {
    throw new HangarError(
      "conflict",
      `${version.version} can't be deleted while other things depend on it: ${dependants.join("; ")}. Remove or move those first, or revoke this version instead.`,
    );
  }
  await tx.delete(imageVersions).where(eq(imageVersions.id, version.id));
  await refreshImageLatest(tx, version.imageId);
  await recordAudit(
    {
      actorId,
      action: "version.delete",
      objectType: "version",
      objectId: version.id,
      before: { imageId: version.imageId, version: version.version, releaseStatus: version.releaseStatus },
    },
    tx,
  );
}

/** What this reviewer decided lately, so the queue can show outcomes after items leave it. */
export async function listRecentDecisions({ reviewerId, minutes = 60 }: { reviewerId: string; minutes?: number }) {
  const result = await db().execute<{
    image_slug: string;
    version: string;
    decision: string;
    reason: string;
    created_at: string;
  }>(sql`
    select i.slug as image_slug, v.version, r.decision, r.reason, r.created_at
    from reviews r join image_versions v on v.id = r.version_id join images i on i.id = v.image_id
    where r.reviewer_id = ${reviewerId} and r.created_at > now() - make_interval(mins => ${minutes})
    order by r.created_at desc limit 20`);
  return result.rows.map((row) => ({
    label: `${row.image_slug} ${row.version}`,
    imageSlug: row.image_slug,
    version: row.version,
    decision: row.decision,
    reason: row.reason,
    at: new Date(row.created_at),
  }));
}

/**
 * Versions waiting for review that the viewer may approve, oldest first as on the review page, after
 * a (createdAt, id) position. Whether they may is the release rules' answer, so a version the viewer
 * produced is left out (four eyes) though they could still reject it.
 */
export async function listApprovableReviews({
  viewer,
  after,
  limit,
}: {
  viewer: Viewer;
  after?: { position: string; id: string };
  limit: number;
}): Promise<{ id: string; position: string }[]> {
  const found: { id: string; position: string }[] = [];
  let from = after && isUuid(after.id) ? after : undefined;
  for (;;) {
    const batch = await db().execute<{ id: string; position: string; project_id: string; producer: boolean }>(sql`
      select v.id, v.created_at::text as position, images.project_id,
             ${viewer.id}::uuid in (${versionProducerIds("v")}) as producer
      from image_versions v
      join images on images.id = v.image_id
      where v.release_status = 'pending_review'
        and ${visibleVersionCondition(viewer, { image: "images", version: "v" })}
        ${from ? sql`and (v.created_at, v.id) > (${from.position}::timestamptz, ${from.id}::uuid)` : sql``}
      order by v.created_at, v.id
      limit ${limit}`);
    for (const row of batch.rows) {
      const standing = releaseStandingOf(viewer, row.project_id, { producer: row.producer });
      if (availableActions("pending_review", standing).includes("approve"))
        found.push({ id: row.id, position: row.position });
      if (found.length === limit) return found;
    }
    if (batch.rows.length < limit) return found;
    from = batch.rows.at(-1)!;
  }
}

export interface ReleaseChangeRecord {
  id: number;
  versionId: string;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  reason: string | null;
  actor: { id: string; email: string } | null;
  at: Date;
}

/**
 * A version's release changes from the audit trail, newest first, after an event id; null when the
 * viewer can't see the version. Scheduled changes appear when they were applied.
 */
export async function listReleaseChanges({
  viewer,
  versionId,
  afterId,
  limit,
}: {
  viewer: Viewer;
  versionId: string;
  afterId?: number;
  limit: number;
}): Promise<ReleaseChangeRecord[] | null> {
  if (!(await loadVersion(viewer, versionId))) return null;
  const result = await db().execute<Record<string, unknown>>(sql`
    select a.id, a.action, a.before->>'releaseStatus' as from_status, a.after->>'releaseStatus' as to_status,
           a.after->>'reason' as reason, u.id as actor_id, u.email as actor_email, a.at
    from audit_events a
    left join users u on u.id = a.actor_id
    where a.object_type = 'version' and a.object_id = ${versionId}
      and a.action in (${sql.join(
        releaseActions.map((action) => sql`${`release.${action}`}`),
        sql`, `,
      )})
      ${afterId !== undefined ? sql`and a.id < ${afterId}` : sql``}
    order by a.id desc
    limit ${limit}`);
  return result.rows.map((row) => ({
    id: Number(row.id),
    versionId,
    action: String(row.action).replace(/^release\./, ""),
    fromStatus: (row.from_status as string | null) ?? null,
    toStatus: (row.to_status as string | null) ?? null,
    reason: (row.reason as string | null) || null,
    actor: row.actor_id ? { id: String(row.actor_id), email: String(row.actor_email) } : null,
    at: new Date(String(row.at)),
  }));
}
