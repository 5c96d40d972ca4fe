import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { buttonClasses } from "@/components/ui/button";
import { DataStatusBadge, ReleaseStatusBadge } from "@/components/ui/badge";
import { formatBytes, formatDateTime, humanize } from "@/components/ui/format";
import { InspectionReport } from "@/components/versions/inspection-report";
import { VersionDownloads } from "@/components/versions/version-downloads";
import { CopyValue } from "@/components/images/copy-button";
import { LineageGraph } from "@/components/lineage/lineage-graph";
import { RebuildButton } from "@/components/lineage/rebuild-button";
import { DeleteVersionButton } from "@/components/reviews/delete-version-button";
import { ReleaseControls } from "@/components/reviews/release-controls";
import { CloneForm } from "@/components/clones/clone-form";
import { getVersionUsage, listCloneTargets } from "@/db/queries/clones";
import { getVersionContents } from "@/db/queries/content";
import { ContentsSection } from "@/components/content/contents-section";
import { MismatchWarning } from "@/components/content/mismatch-warning";
import { defaultResetOperations, identityResetOperations } from "@/db/enums";
import { getLineage, getNewerBase } from "@/db/queries/lineage";
import { listReviews } from "@/db/queries/releases";
import { getVersionDetail, listApprovedVersions } from "@/db/queries/versions";
import { heldBackActions, isBuildable, isCurrentRelease, producerNote, retiredNotices } from "@/lib/governance/release";
import type { DataStatus, ReleaseStatus } from "@/db/enums";
import { requireViewer } from "@/lib/auth/session";
import { getBootGate } from "@/db/queries/boot-tests";
import { BootTestSection } from "./boot-test-section";
import { LiveVersionProgress } from "@/components/imports/version-progress";
import { DEMO_DEBIAN_FILENAME } from "@/db/queries/demo";
import { getVersionProgress } from "@/db/queries/images";
import { getBlobChecksumFailure } from "@/db/queries/blobs";
import { UseItOnPanel } from "@/components/versions/use-it-on-panel";
import { platformSnippetsFor } from "@/lib/feeds/version-panel";

/** A checksum that blob.checksums may still be computing after the file is ready, or why it could not. */
function laterChecksum(
  value: string | null,
  label: string,
  { ready, failure }: { ready: boolean; failure: string | null },
): React.ReactNode {
  if (value)
    return <CopyValue value={value} shown={value.length > 32 ? `${value.slice(0, 32)}…` : value} label={label} />;
  if (!ready) return "—";
  return failure ? `Not computed: ${failure}` : "Being computed…";
}

/** What an importing version is doing, in words. */
function importActivity(detail: { source: string; originalFilename: string | null }): string {
  if (detail.source === "url" && detail.originalFilename === DEMO_DEBIAN_FILENAME)
    return "Being built from Debian's packages (debootstrap), then inspected…";
  if (detail.source === "url") return "Downloading and inspecting…";
  return "Inspecting…";
}

type Params = { params: Promise<{ slug: string; version: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug, version } = await params;
  return { title: `${decodeURIComponent(version)} · ${slug}` };
}

export default async function VersionPage({ params }: Params) {
  const { slug, version: rawVersion } = await params;
  const version = decodeURIComponent(rawVersion);
  const viewer = await requireViewer(`/images/${slug}/versions/${rawVersion}`);
  const detail = await getVersionDetail({ viewer, imageSlug: slug, version });
  if (!detail) notFound();
  const cloneable = detail.dataStatus === "ready" && isCurrentRelease(detail.releaseStatus as ReleaseStatus);
  const retiredNotice = retiredNotices[detail.releaseStatus as ReleaseStatus];
  const [decisions, replacements, lineage, newerBase, usage, cloneTargets, contents] = await Promise.all([
    listReviews({ versionId: detail.id }),
    listApprovedVersions({ imageId: detail.imageId, excludeId: detail.id }),
    getLineage({ viewer, versionId: detail.id }),
    getNewerBase({ versionId: detail.id }),
    getVersionUsage({ viewer, versionId: detail.id, ownerProjectId: detail.projectId }),
    cloneable ? listCloneTargets({ viewer }) : Promise.resolve([]),
    getVersionContents({ viewer, versionId: detail.id }),
  ]);
  const progress = ["queued", "uploading", "importing"].includes(detail.dataStatus)
    ? await getVersionProgress({ viewer, versionId: detail.id })
    : null;
  // Only what a platform may take: an approved or deprecated, ready version whose checksums are known.
  const useItOn =
    detail.dataStatus === "ready" && ["approved", "deprecated"].includes(detail.releaseStatus)
      ? await platformSnippetsFor({ viewer, imageSlug: detail.imageSlug, versionId: detail.id })
      : null;
  const heldBack = heldBackActions(detail.can.release, { bootGate: await getBootGate({ versionId: detail.id }) });
  const checksumState = {
    ready: detail.dataStatus === "ready",
    failure:
      detail.sha256 && (!detail.sha512 || !detail.md5) ? await getBlobChecksumFailure({ sha256: detail.sha256 }) : null,
  };
  const facts: [string, React.ReactNode][] = [
    ["Format", detail.format ?? "—"],
    ["Virtual size", formatBytes(detail.virtualSize)],
    ["File size", formatBytes(detail.fileSize)],
    ["SHA-256", detail.sha256 ? <CopyValue value={detail.sha256} shown={detail.sha256} label="SHA-256" /> : "—"],
    ["SHA-512", laterChecksum(detail.sha512, "SHA-512", checksumState)],
    ["MD5", laterChecksum(detail.md5, "MD5", checksumState)],
    ["Source", detail.sourceUrl ? `${humanize(detail.source)}: ${detail.sourceUrl}` : humanize(detail.source)],
    ...(detail.parent
      ? ([
          [
            detail.source === "clone" ? (detail.linked ? "Linked clone of" : "Cloned from") : "Built from",
            <Link
              key="parent"
              href={`/images/${detail.parent.imageSlug}/versions/${encodeURIComponent(detail.parent.version)}`}
            >
              {detail.parent.imageSlug} {detail.parent.version}
            </Link>,
          ],
        ] as [string, React.ReactNode][])
      : []),
    ...(detail.build
      ? ([
          [
            "Build",
            <span key="build">
              <Link href={`/builds/${detail.build.id}`}>build #{detail.build.number}</Link> of{" "}
              <Link href={`/recipes/${detail.build.recipeId}`}>recipe revision {detail.build.revision}</Link>
            </span>,
          ],
        ] as [string, React.ReactNode][])
      : []),
    [
      "Used by",
      usage.clones + usage.builds === 0
        ? "No clones or builds yet"
        : `${usage.clones} clone${usage.clones === 1 ? "" : "s"} and ${usage.builds} build${usage.builds === 1 ? "" : "s"}${usage.byProject.length ? `: ${usage.byProject.map((row) => `${row.projectName ?? "another project"} (${row.clones + row.builds})`).join(", ")}` : ""}`,
    ],
    ["Original file name", detail.originalFilename ?? "—"],
    ["Created by", detail.createdByEmail ?? "unknown"],
    ...(detail.build
      ? ([["Produced by", detail.producers.map((person) => person.email).join(", ") || "unknown"]] as [
          string,
          React.ReactNode,
        ][])
      : []),
    ["Created", formatDateTime(detail.createdAt)],
  ];
  return (
    <div className="space-y-8">
      <nav aria-label="Breadcrumb" className="text-sm text-muted">
        <Link href="/">Catalog</Link> / <Link href={`/images/${detail.imageSlug}`}>{detail.imageName}</Link> /{" "}
        {detail.version}
      </nav>
      <PageHeader
        title={`${detail.imageName} ${detail.version}`}
        description={
          <span className="flex items-center gap-2">
            <DataStatusBadge status={detail.dataStatus as DataStatus} />
            <ReleaseStatusBadge status={detail.releaseStatus as ReleaseStatus} />
          </span>
        }
        actions={
          detail.dataStatus === "ready" && isBuildable(detail.releaseStatus as ReleaseStatus) ? (
            <Link
              className={buttonClasses({ variant: "primary" })}
              href={`/recipes/new?${new URLSearchParams({ base: detail.imageSlug, version: detail.version })}`}
            >
              Customize
            </Link>
          ) : null
        }
      />
      {newerBase ? (
        <div
          role="status"
          className="flex flex-wrap items-center justify-between gap-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
        >
          <p>
            Out of date: it was built on {newerBase.imageSlug} {newerBase.parentVersion}, and{" "}
            <Link href={`/images/${newerBase.imageSlug}/versions/${encodeURIComponent(newerBase.version)}`}>
              {newerBase.imageSlug} {newerBase.version}
            </Link>{" "}
            is the newest approved base now.
          </p>
          {detail.build && detail.can.contribute ? <RebuildButton versionId={detail.id} /> : null}
        </div>
      ) : null}
      {detail.revokedAncestor ? (
        <p role="alert" className="rounded-md border border-danger bg-danger-soft p-3 text-sm text-danger">
          Built from a revoked version: {detail.revokedAncestor.imageSlug} {detail.revokedAncestor.version} was revoked,
          so this version carries what it carried. Rebuild it on a supported base.
        </p>
      ) : null}
      {retiredNotice ? (
        <p role="status" className="rounded-md border border-line bg-surface p-3 text-sm">
          This version is {detail.releaseStatus}. {retiredNotice}
          {detail.replacement ? (
            <>
              {" "}
              Use{" "}
              <Link href={`/images/${detail.imageSlug}/versions/${encodeURIComponent(detail.replacement.version)}`}>
                {detail.imageSlug} {detail.replacement.version}
              </Link>{" "}
              instead.
            </>
          ) : null}
        </p>
      ) : null}
      {contents ? <MismatchWarning mismatches={contents.mismatches} /> : null}
      {progress ? (
        <LiveVersionProgress
          versionId={detail.id}
          initial={progress}
          label="Version progress"
          activity={importActivity(detail)}
        />
      ) : null}
      {detail.dataStatus === "failed" && detail.failureReason ? (
        <p role="alert" className="rounded-md border border-danger bg-danger-soft p-3 text-sm text-danger">
          {detail.failureReason}
        </p>
      ) : null}
      <div className="grid gap-8 lg:grid-cols-[minmax(0,1fr)_24rem]">
        <section aria-labelledby="facts-heading" className="space-y-3">
          <h2 id="facts-heading" className="text-base font-semibold">
            Facts
          </h2>
          <dl className="grid grid-cols-[10rem_minmax(0,1fr)] gap-x-4 gap-y-1.5 text-sm">
            {facts.map(([label, value]) => (
              <div key={label} className="contents">
                <dt className="text-muted">{label}</dt>
                <dd className="min-w-0 break-all">{value}</dd>
              </div>
            ))}
          </dl>
          <h2 id="release-heading" className="pt-4 text-base font-semibold">
            Release
          </h2>
          <div aria-labelledby="release-heading" className="space-y-3 rounded-lg border border-line bg-surface p-4">
            <p className="flex items-center gap-2 text-sm">
              Status: <ReleaseStatusBadge status={detail.releaseStatus as ReleaseStatus} />
            </p>
            {decisions.length ? (
              <ol aria-label="Review decisions" className="space-y-1 text-sm">
                {decisions.map((decision, index) => (
                  <li key={index}>
                    <span className="font-medium">{decision.decision === "approved" ? "Approved" : "Rejected"}</span> by{" "}
                    {decision.reviewer ?? "an admin"}, {formatDateTime(decision.createdAt)}
                    {decision.reason ? <>: “{decision.reason}”</> : null}
                  </li>
                ))}
              </ol>
            ) : null}
            <ReleaseControls
              versionId={detail.id}
              actions={detail.can.release}
              heldBack={heldBack}
              replacements={replacements}
              producerNote={
                detail.producedByViewer && detail.releaseStatus === "pending_review" ? producerNote : undefined
              }
            />
            {detail.can.manage ? (
              <DeleteVersionButton
                versionId={detail.id}
                label={`${detail.imageSlug} ${detail.version}`}
                imageSlug={detail.imageSlug}
              />
            ) : null}
          </div>
          {lineage ? (
            <>
              <h2 className="pt-4 text-base font-semibold">Lineage</h2>
              <LineageGraph lineage={lineage} />
            </>
          ) : null}
          <h2 className="pt-4 text-base font-semibold">Inspection</h2>
          <InspectionReport report={detail.inspection} />
        </section>
        <section aria-labelledby="download-heading" className="space-y-3 rounded-lg border border-line bg-surface p-4">
          <h2 id="download-heading" className="text-base font-semibold">
            Download
          </h2>
          {detail.dataStatus === "ready" && detail.format && detail.fileSize !== null ? (
            <VersionDownloads
              versionId={detail.id}
              format={detail.format}
              fileSize={detail.fileSize}
              linked={detail.linked}
            />
          ) : (
            <p className="text-sm text-muted">Downloads appear once the version is ready.</p>
          )}
          <h2 id="clone-heading" className="border-t border-line pt-4 text-base font-semibold">
            Clone
          </h2>
          {cloneable ? (
            <CloneForm
              versionId={detail.id}
              sourceLabel={`${detail.imageSlug} ${detail.version}`}
              suggestedSlug={`${detail.imageSlug}-clone`.slice(0, 63)}
              projects={cloneTargets}
              resetOptions={Object.entries(identityResetOperations).map(([name, description]) => ({
                name,
                description,
              }))}
              defaultReset={defaultResetOperations}
              sourceLinked={detail.linked}
            />
          ) : (
            <p className="text-sm text-muted">
              Only approved versions can be cloned
              {isCurrentRelease(detail.releaseStatus as ReleaseStatus)
                ? " once they are ready"
                : `; this one is ${humanize(detail.releaseStatus).toLowerCase()}`}
              .
            </p>
          )}
        </section>
      </div>
      {useItOn ? (
        <div className="space-y-3 rounded-lg border border-line bg-surface p-4">
          <UseItOnPanel snippets={useItOn.snippets} />
          {useItOn.viaPublicFeed ? null : (
            <p className="text-sm text-muted">
              These use the API download URL, which needs a token; platforms that send none read a feed. An owner
              publishes the image and makes a feed under the project&rsquo;s Feeds.
            </p>
          )}
        </div>
      ) : null}
      {contents ? (
        <div className="rounded-lg border border-line bg-surface p-4">
          <ContentsSection contents={contents} />
        </div>
      ) : null}
      <BootTestSection viewer={viewer} version={detail} />
    </div>
  );
}
