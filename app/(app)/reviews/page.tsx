import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { RevisionDiff } from "@/components/recipes/revision-diff";
import { ReviewDecision } from "@/components/reviews/review-decision";
import { BootTestBadge } from "@/components/boot-tests/boot-test-badge";
import { PageHeader } from "@/components/shell/page-header";
import { Badge } from "@/components/ui/badge";
import { formatBytes, humanize } from "@/components/ui/format";
import { RelativeTime } from "@/components/ui/time";
import { listPendingReviews, listRecentDecisions } from "@/db/queries/releases";
import { requireViewer } from "@/lib/auth/session";
import { isAdmin } from "@/db/queries/access";
import { listReviewContents, type ReviewContent } from "@/db/queries/content";
import { MismatchWarning } from "@/components/content/mismatch-warning";
import { PackageDiffView, packageDiffSummary } from "@/components/content/package-diff";

function ContentsLine({ content }: { content: ReviewContent | undefined }) {
  const scan = content?.scan;
  if (!scan || scan.status === "none") return <>Not inspected yet</>;
  if (scan.status === "queued" || scan.status === "running")
    return <>{scan.status === "queued" ? "Inspection queued" : "Inspection running"}</>;
  if (scan.status === "failed" || scan.status === "cancelled")
    return (
      <>
        Inspection {scan.status}: {scan.reason}
      </>
    );
  if (scan.status !== "succeeded") return null;
  const { facts } = scan;
  if (!facts.osFound) return <>No operating system found{facts.noOsReason ? `: ${facts.noOsReason}` : ""}</>;
  return (
    <>
      {[facts.productName ?? facts.distro, facts.arch].filter(Boolean).join(", ") || "Unidentified OS"} ·{" "}
      {facts.packageCount} package{facts.packageCount === 1 ? "" : "s"}
    </>
  );
}

function ParentDiff({ content, label }: { content: ReviewContent | undefined; label: string }) {
  if (!content?.parent) return null;
  const parentLabel = `${content.parent.imageSlug} ${content.parent.version}`;
  if (!content.packageDiff) {
    const waiting =
      content.scan.status !== "succeeded"
        ? `${label} has not been inspected successfully yet`
        : `its parent ${parentLabel} has not been inspected successfully yet`;
    return (
      <p className="text-sm text-muted">
        Package changes against the parent appear once both are inspected: {waiting}.
      </p>
    );
  }
  return (
    <details className="text-sm">
      <summary className="cursor-pointer">
        Package changes since the parent {parentLabel}: {packageDiffSummary(content.packageDiff)}
      </summary>
      <div className="mt-2">
        <PackageDiffView diff={content.packageDiff} open />
      </div>
    </details>
  );
}

export const metadata: Metadata = { title: "Reviews" };

export default async function ReviewsPage() {
  const viewer = await requireViewer("/reviews");
  if (!isAdmin(viewer)) forbidden();
  const [pending, recent] = await Promise.all([listPendingReviews(), listRecentDecisions({ reviewerId: viewer.id })]);
  const contents = await listReviewContents({ viewer, versionIds: pending.map((item) => item.id) });
  return (
    <div>
      <PageHeader
        title="Review queue"
        description="Versions waiting for a decision, oldest first. Nobody outside a version's project can use it until it is approved; whoever produced a version can't approve it."
      />
      {recent.length ? (
        <section aria-labelledby="recent-heading" className="mb-5 rounded-lg border border-line bg-surface p-3">
          <h2 id="recent-heading" className="text-sm font-semibold">
            Your recent decisions
          </h2>
          <ul aria-label="Your recent decisions" className="mt-1 space-y-0.5 text-sm">
            {recent.map((decision) => (
              <li key={`${decision.label}-${decision.at.getTime()}`}>
                <Link href={`/images/${decision.imageSlug}/versions/${encodeURIComponent(decision.version)}`}>
                  {decision.label}
                </Link>{" "}
                {decision.decision}
                {decision.reason ? `: “${decision.reason}”` : ""} · <RelativeTime date={decision.at} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {pending.length === 0 ? (
        <p className="rounded-lg border border-line bg-surface p-6 text-muted">Nothing is waiting for review.</p>
      ) : (
        <ul aria-label="Versions waiting for review" className="space-y-4">
          {pending.map((item) => {
            const label = `${item.imageSlug} ${item.version}`;
            const content = contents.get(item.id);
            return (
              <li
                key={item.id}
                aria-label={label}
                className="grid gap-4 rounded-lg border border-line bg-surface p-4 lg:grid-cols-[minmax(0,1fr)_22rem]"
              >
                <div className="min-w-0 space-y-2">
                  <h2 className="text-base font-semibold">
                    <Link href={`/images/${item.imageSlug}/versions/${encodeURIComponent(item.version)}`}>
                      {item.imageName} {item.version}
                    </Link>
                  </h2>
                  <dl className="grid grid-cols-[9rem_minmax(0,1fr)] gap-x-3 gap-y-1 text-sm">
                    <dt className="text-muted">Produced by</dt>
                    <dd>
                      {item.producers.length ? item.producers.map((person) => person.email).join(", ") : "unknown"} ·{" "}
                      <RelativeTime date={item.createdAt} />
                    </dd>
                    <dt className="text-muted">From</dt>
                    <dd>
                      {humanize(item.source)}
                      {item.sourceUrl ? `: ${item.sourceUrl}` : ""}
                      {item.parentImageSlug && item.parentVersion ? (
                        <>
                          {" on "}
                          <Link
                            href={`/images/${item.parentImageSlug}/versions/${encodeURIComponent(item.parentVersion)}`}
                          >
                            {item.parentImageSlug} {item.parentVersion}
                          </Link>
                        </>
                      ) : null}
                    </dd>
                    {item.buildId && item.recipeId ? (
                      <>
                        <dt className="text-muted">Build</dt>
                        <dd>
                          <Link href={`/builds/${item.buildId}`}>build #{item.buildNumber} and its log</Link>
                          {" · "}
                          <Link
                            href={
                              item.revision && item.revision > 1
                                ? `/recipes/${item.recipeId}?from=${item.revision - 1}&to=${item.revision}#diff`
                                : `/recipes/${item.recipeId}`
                            }
                          >
                            recipe revision {item.revision}
                            {item.revision && item.revision > 1 ? " (changes)" : ""}
                          </Link>
                        </dd>
                      </>
                    ) : null}
                    <dt className="text-muted">Inspection</dt>
                    <dd>
                      {item.inspectionSafe === null ? (
                        "—"
                      ) : item.inspectionSafe ? (
                        <Badge tone="success">Safe ({item.inspectionFormat})</Badge>
                      ) : (
                        <Badge tone="danger">Problems found</Badge>
                      )}
                    </dd>
                    <dt className="text-muted">Contents</dt>
                    <dd>
                      <ContentsLine content={content} />
                    </dd>
                    <dt className="text-muted">Boot test</dt>
                    <dd>
                      <BootTestBadge test={item.bootTest} />
                    </dd>
                    <dt className="text-muted">Sizes</dt>
                    <dd>
                      {formatBytes(item.virtualSize)} virtual · {formatBytes(item.fileSize)} file · {item.format ?? "—"}
                    </dd>
                  </dl>
                  <MismatchWarning mismatches={content?.mismatches ?? []} />
                  <ParentDiff content={content} label={label} />
                  {item.revisionDocument && item.previousBuild ? (
                    <details className="text-sm">
                      <summary className="cursor-pointer">
                        Recipe changes since the previous build of {item.imageSlug} ({item.previousBuild.version},{" "}
                        {item.previousBuild.recipeName} r{item.previousBuild.revision})
                      </summary>
                      <RevisionDiff
                        from={{ revision: item.previousBuild.revision, document: item.previousBuild.document }}
                        to={{ revision: item.revision ?? 0, document: item.revisionDocument }}
                      />
                    </details>
                  ) : null}
                </div>
                <ReviewDecision
                  versionId={item.id}
                  label={label}
                  ownVersion={item.producers.some((person) => person.id === viewer.id)}
                  approveHeldBack={item.approveHeldBack}
                />
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
