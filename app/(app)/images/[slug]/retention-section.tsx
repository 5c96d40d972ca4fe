import { RetentionForm } from "@/components/retention/retention-form";
import { formatDateTime } from "@/components/ui/format";
import { getRetentionRuleForViewer } from "@/db/queries/retention";
import type { Viewer } from "@/db/queries/users";
import { describeSummary } from "@/lib/retention/run";

/** The image page's retention rule, for owners of its project and admins. */
export async function RetentionSection({
  viewer,
  image,
}: {
  viewer: Viewer;
  image: { id: string; projectId: string };
}) {
  const rule = await getRetentionRuleForViewer({ viewer, image });
  if (!rule) return null;
  return (
    <section aria-labelledby="retention-title" className="rounded-lg border border-line bg-surface p-4">
      <h2 id="retention-title" className="mb-2 text-base font-semibold">
        Retention
      </h2>
      <RetentionForm
        imageId={image.id}
        saved={{
          keepNewestApproved: rule.keepNewestApproved,
          deprecateAfterDays: rule.deprecateAfterDays,
          deleteDeprecatedAfterDays: rule.deleteDeprecatedAfterDays,
          enabled: rule.updatedAt ? rule.enabled : false,
        }}
        lastRun={
          rule.lastRunAt && rule.lastRunSummary
            ? { at: formatDateTime(rule.lastRunAt), summary: describeSummary(rule.lastRunSummary) }
            : null
        }
      />
    </section>
  );
}
