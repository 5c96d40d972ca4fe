import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { FactsDiff } from "@/components/content/facts-diff";
import { FileDiffSection } from "@/components/content/file-diff-view";
import { PackageDiffView } from "@/components/content/package-diff";
import { VersionPicker } from "@/components/content/version-picker";
import { PageHeader } from "@/components/shell/page-header";
import { getVersionContents, listPickableVersions, type VersionContents } from "@/db/queries/content";
import { diffPackages } from "@/db/queries/packages";
import { getFileDiff } from "@/db/queries/version-diffs";
import { requireViewer } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Compare versions" };

type SearchParams = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.trim() || undefined;

function Panel({ children, tone = "neutral" }: { children: ReactNode; tone?: "neutral" | "alert" }) {
  return (
    <p role={tone === "alert" ? "alert" : undefined} className="rounded-lg border border-line bg-surface p-5 text-sm">
      {children}
    </p>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="space-y-3 rounded-lg border border-line bg-surface p-4">
      <h2 id={id} className="text-base font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

const versionHref = (contents: VersionContents) =>
  `/images/${contents.imageSlug}/versions/${encodeURIComponent(contents.version)}`;

function notScanned(contents: VersionContents): string | null {
  const label = `${contents.imageSlug} ${contents.version}`;
  const { scan } = contents;
  if (!contents.dataReady) return `${label} is not ready yet: its bytes are still being stored.`;
  if (scan.status === "none") return `${label} has not been inspected yet.`;
  if (scan.status === "queued" || scan.status === "running")
    return `${label} is being inspected (${scan.status}); its packages appear when that ends.`;
  if (scan.status === "failed" || scan.status === "cancelled") return `${label} could not be inspected: ${scan.reason}`;
  return null;
}

export default async function ComparePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const from = first(params.from);
  const to = first(params.to);
  const query = new URLSearchParams();
  if (from) query.set("from", from);
  if (to) query.set("to", to);
  const viewer = await requireViewer(query.size ? `/compare?${query}` : "/compare");
  const [pickable, fromContents, toContents] = await Promise.all([
    listPickableVersions({ viewer, include: [from, to].filter((id): id is string => Boolean(id)) }),
    from ? getVersionContents({ viewer, versionId: from, packages: false }) : Promise.resolve(null),
    to ? getVersionContents({ viewer, versionId: to, packages: false }) : Promise.resolve(null),
  ]);

  let body: ReactNode;
  if (!from || !to) {
    body = <Panel>Choose two versions to see what changed between them.</Panel>;
  } else if (from === to) {
    body = (
      <Panel tone="alert">
        That is the same version twice: a version compared with itself has no differences. Choose two different
        versions.
      </Panel>
    );
  } else if (!fromContents || !toContents) {
    body = (
      <Panel tone="alert">
        {!fromContents && !toContents ? "Neither version exists" : "One of these versions doesn’t exist"} or you can’t
        see it. Choose versions from the lists above.
      </Panel>
    );
  } else {
    const waiting = [notScanned(fromContents), notScanned(toContents)].filter((text): text is string => !!text);
    const [packageDiff, fileDiff] = await Promise.all([
      fromContents.scan.status === "succeeded" &&
      toContents.scan.status === "succeeded" &&
      fromContents.sha256 &&
      toContents.sha256
        ? diffPackages({ fromSha256: fromContents.sha256, toSha256: toContents.sha256 })
        : Promise.resolve(null),
      getFileDiff({ viewer, fromVersionId: fromContents.versionId, toVersionId: toContents.versionId }),
    ]);
    body = (
      <div className="space-y-6">
        <p className="text-sm">
          From <Link href={versionHref(fromContents)}>{`${fromContents.imageSlug} ${fromContents.version}`}</Link> to{" "}
          <Link href={versionHref(toContents)}>{`${toContents.imageSlug} ${toContents.version}`}</Link>
          {fromContents.sha256 && fromContents.sha256 === toContents.sha256 ? " (the same bytes)" : ""}.{" "}
          <Link href={`/compare?${new URLSearchParams({ from: to, to: from })}`}>Swap</Link>
        </p>
        <Section id="packages-diff-heading" title="Packages">
          {packageDiff ? (
            <PackageDiffView diff={packageDiff} open />
          ) : (
            <div role="status" className="space-y-1 text-sm">
              <p>Packages can be compared once both versions have been inspected.</p>
              <ul className="list-disc pl-5 text-muted">
                {waiting.map((text) => (
                  <li key={text}>{text}</li>
                ))}
              </ul>
            </div>
          )}
        </Section>
        <Section id="facts-diff-heading" title="Operating system facts">
          {fromContents.scan.status === "succeeded" && toContents.scan.status === "succeeded" ? (
            <FactsDiff from={fromContents.scan.facts} to={toContents.scan.facts} />
          ) : (
            <p className="text-sm text-muted">OS facts can be compared once both versions have been inspected.</p>
          )}
        </Section>
        <Section id="files-diff-heading" title="Files">
          {fromContents.dataReady && toContents.dataReady ? (
            <FileDiffSection
              fromVersionId={fromContents.versionId}
              toVersionId={toContents.versionId}
              diff={fileDiff}
            />
          ) : (
            <p className="text-sm text-muted">Files can be compared once both versions are ready.</p>
          )}
        </Section>
      </div>
    );
  }

  return (
    <div className="space-y-6">
      <PageHeader
        title="Compare versions"
        description="Packages, OS facts and files that differ between two versions you can see."
      />
      <VersionPicker versions={pickable} from={from} to={to} />
      {body}
    </div>
  );
}
