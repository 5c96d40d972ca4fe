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
import { getVersionDetail } from "@/db/queries/versions";
import type { DataStatus, ReleaseStatus } from "@/db/enums";
import { requireViewer } from "@/lib/auth/session";

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
  const facts: [string, React.ReactNode][] = [
    ["Format", detail.format ?? "—"],
    ["Virtual size", formatBytes(detail.virtualSize)],
    ["File size", formatBytes(detail.fileSize)],
    ["SHA-256", detail.sha256 ? <CopyValue value={detail.sha256} shown={detail.sha256} label="SHA-256" /> : "—"],
    ["SHA-512", detail.sha512 ? <CopyValue value={detail.sha512} shown={`${detail.sha512.slice(0, 32)}…`} label="SHA-512" /> : "—"],
    ["Source", detail.sourceUrl ? `${humanize(detail.source)}: ${detail.sourceUrl}` : humanize(detail.source)],
    ...(detail.parent
      ? ([
          [
            "Built from",
            <Link key="parent" href={`/images/${detail.parent.imageSlug}/versions/${encodeURIComponent(detail.parent.version)}`}>
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
              <Link href={`/builds/${detail.build.id}`}>build #{detail.build.number}</Link> of <Link href={`/recipes/${detail.build.recipeId}`}>recipe revision {detail.build.revision}</Link>
            </span>,
          ],
        ] as [string, React.ReactNode][])
      : []),
    ["Original file name", detail.originalFilename ?? "—"],
    ["Created by", detail.createdByEmail ?? "unknown"],
    ["Created", formatDateTime(detail.createdAt)],
  ];
  return (
    <div className="space-y-8">
      <nav aria-label="Breadcrumb" className="text-sm text-muted">
        <Link href="/">Catalog</Link> / <Link href={`/images/${detail.imageSlug}`}>{detail.imageName}</Link> / {detail.version}
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
          detail.dataStatus === "ready" && !["rejected", "disabled", "revoked"].includes(detail.releaseStatus) ? (
            <Link className={buttonClasses({ variant: "primary" })} href={`/recipes/new?${new URLSearchParams({ base: detail.imageSlug, version: detail.version })}`}>
              Customize
            </Link>
          ) : null
        }
      />
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
          <h2 className="pt-4 text-base font-semibold">Inspection</h2>
          <InspectionReport report={detail.inspection} />
        </section>
        <section aria-labelledby="download-heading" className="space-y-3 rounded-lg border border-line bg-surface p-4">
          <h2 id="download-heading" className="text-base font-semibold">
            Download
          </h2>
          {detail.dataStatus === "ready" && detail.format && detail.fileSize !== null ? (
            <VersionDownloads versionId={detail.id} format={detail.format} fileSize={detail.fileSize} />
          ) : (
            <p className="text-sm text-muted">Downloads appear once the version is ready.</p>
          )}
        </section>
      </div>
    </div>
  );
}
