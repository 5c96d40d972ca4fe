// Running retention rules: plan from the stored facts, then apply each change on its own (one
// refused or raced change does not stop the others), audit it, send it as a webhook event and
// store the outcome on the rule. A dry run plans and reports without changing anything.
import {
  deleteVersionForRetention,
  deprecateVersionForRetention,
  getRetentionRule,
  listImagesWithEnabledRetention,
  listRetentionVersions,
  recordRetentionRun,
  type RetentionImage,
  type RetentionRunSummary,
} from "@/db/queries/retention";
import type { Viewer } from "@/db/queries/users";
import { HangarError } from "@/lib/errors";
import { queueWebhookEvent } from "@/lib/webhooks/events";
import { planRetention, type RetentionChange, type RetentionRule } from "./plan";

/** Who runs a rule: a person who may manage the image (checked by the caller), or the daily job / an operator. */
export type RetentionActor = { kind: "viewer"; viewer: Viewer } | { kind: "system"; label: string };

export const DAILY_JOB_LABEL = "retention (daily job)";

/** `outcome`: "planned" in a dry run, else "applied", "kept" (a refused deletion) or why it was not applied. */
export type RetentionOutcome = RetentionChange & { outcome: string };

export interface RetentionReport {
  image: RetentionImage;
  dryRun: boolean;
  changes: RetentionOutcome[];
  summary: RetentionRunSummary;
}

/** What the rule (or `rule`, for a preview of unsaved values) would change on the image now. */
export async function previewRetention({
  image,
  rule,
  now = new Date(),
}: {
  image: RetentionImage;
  rule?: RetentionRule;
  now?: Date;
}): Promise<RetentionChange[]> {
  const stored = rule ?? (await getRetentionRule({ imageId: image.id }));
  return planRetention({ versions: await listRetentionVersions({ imageId: image.id }), rule: stored, now });
}

/** Runs the image's saved rule (whether or not it is enabled: the caller asked for this image). */
export async function runRetention({
  image,
  actor,
  dryRun = false,
  now = new Date(),
}: {
  image: RetentionImage;
  actor: RetentionActor;
  dryRun?: boolean;
  now?: Date;
}): Promise<RetentionReport> {
  const plan = await previewRetention({ image, now });
  const actorId = actor.kind === "viewer" ? actor.viewer.id : null;
  const by = actor.kind === "viewer" ? actor.viewer.email : actor.label;
  const changes: RetentionOutcome[] = [];
  for (const change of plan) {
    if (dryRun) {
      changes.push({ ...change, outcome: "planned" });
      continue;
    }
    if (change.kind === "refused-delete") {
      changes.push({ ...change, outcome: "kept" });
      continue;
    }
    const target = { actorId, by, imageId: image.id, versionId: change.versionId, reason: change.reason };
    try {
      if (change.kind === "deprecate") await deprecateVersionForRetention(target);
      else await deleteVersionForRetention(target);
    } catch (error) {
      if (!(error instanceof HangarError)) throw error;
      changes.push({ ...change, outcome: `not applied: ${error.message}` });
      continue;
    }
    changes.push({ ...change, outcome: "applied" });
    await sendEvent(
      change.kind === "deprecate"
        ? {
            type: "release.changed",
            projectId: image.projectId,
            actorId,
            object: {
              imageId: image.id,
              imageSlug: image.slug,
              versionId: change.versionId,
              version: change.version,
              action: "deprecate",
              from: "approved",
              to: "deprecated",
              reason: change.reason,
              by: "retention",
            },
          }
        : {
            type: "version.deleted",
            projectId: image.projectId,
            actorId,
            object: {
              imageId: image.id,
              imageSlug: image.slug,
              versionId: change.versionId,
              version: change.version,
              releaseStatus: change.from,
              reason: change.reason,
              by: "retention",
            },
          },
    );
  }
  const count = (kind: RetentionChange["kind"]) =>
    changes.filter((change) => change.kind === kind && change.outcome === (dryRun ? "planned" : "applied")).length;
  const summary: RetentionRunSummary = {
    dryRun,
    deprecated: count("deprecate"),
    deleted: count("delete"),
    refused: changes.filter((change) => change.kind === "refused-delete").length,
    failed: changes.filter((change) => change.outcome.startsWith("not applied")).length,
    changes: changes.slice(0, 100).map(({ kind, version, reason, outcome }) => ({ kind, version, reason, outcome })),
  };
  if (!dryRun) await recordRetentionRun({ imageId: image.id, at: now, summary });
  return { image, dryRun, changes, summary };
}

/** A webhook that can't be queued is logged; the change it reports is already made and audited. */
async function sendEvent(event: Parameters<typeof queueWebhookEvent>[0]): Promise<void> {
  try {
    await queueWebhookEvent(event);
  } catch (error) {
    console.error(`retention: could not queue the ${event.type} webhook event`, error);
  }
}

/** The daily job: every image with an enabled rule; one image's failure does not stop the rest. */
export async function runAllRetention({
  actor = { kind: "system", label: DAILY_JOB_LABEL },
  dryRun = false,
  now = new Date(),
  log = console.log,
}: {
  actor?: RetentionActor;
  dryRun?: boolean;
  now?: Date;
  log?: (line: string) => void;
} = {}): Promise<RetentionReport[]> {
  const reports: RetentionReport[] = [];
  for (const image of await listImagesWithEnabledRetention()) {
    try {
      reports.push(await runRetention({ image, actor, dryRun, now }));
    } catch (error) {
      log(`retention for ${image.slug} failed: ${(error as Error).message}`);
    }
  }
  return reports;
}

/** One line for people: "2 deprecated, 1 deleted, 1 kept because something depends on it". */
export function describeSummary(summary: RetentionRunSummary): string {
  const parts = [
    `${summary.deprecated} ${summary.dryRun ? "to deprecate" : "deprecated"}`,
    `${summary.deleted} ${summary.dryRun ? "to delete" : "deleted"}`,
  ];
  if (summary.refused) parts.push(`${summary.refused} kept because something depends on it`);
  if (summary.failed) parts.push(`${summary.failed} not applied`);
  return parts.join(", ");
}
