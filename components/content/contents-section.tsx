import Link from "next/link";
import type { ReactNode } from "react";
import { buttonClasses } from "@/components/ui/button";
import { formatBytes, formatDateTime } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import type { ScanFacts, VersionContents } from "@/db/queries/content";
import { PackageTable } from "./package-table";
import { RefreshWhilePending } from "./refresh-while-pending";

function compareHref(fromId: string, toId: string): string {
  return `/compare?${new URLSearchParams({ from: fromId, to: toId })}`;
}

function NameList({ label, names, empty }: { label: string; names: string[]; empty: string }) {
  if (!names.length) return <p className="text-sm text-muted">{empty}</p>;
  return (
    <ul aria-label={label} className="flex flex-wrap gap-1.5">
      {names.map((name) => (
        <li key={name} className="rounded border border-line bg-raised px-1.5 font-mono text-xs">
          {name}
        </li>
      ))}
    </ul>
  );
}

function Subsection({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="space-y-2">
      <h3 id={id} className="text-sm font-semibold">
        {title}
      </h3>
      {children}
    </section>
  );
}

function OsFacts({ facts }: { facts: ScanFacts }) {
  const rows: [string, string | null][] = [
    ["Type", facts.osType],
    ["Distribution", facts.distro],
    ["Product name", facts.productName],
    ["Version", facts.osVersion],
    ["Architecture", facts.arch],
    ["Hostname", facts.hostname],
    [
      "Package format",
      facts.packageFormat || facts.packageManager
        ? [facts.packageFormat, facts.packageManager].filter(Boolean).join(" / ")
        : null,
    ],
    ["Init system", facts.initSystem],
    ["Packages", String(facts.packageCount)],
  ];
  return (
    <dl className="grid grid-cols-[10rem_minmax(0,1fr)] gap-x-4 gap-y-1.5 text-sm">
      {rows.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-muted">{label}</dt>
          <dd className="min-w-0 break-words">{value || <span className="text-muted">not detected</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

function Filesystems({ facts }: { facts: ScanFacts }) {
  if (!facts.filesystems.length) return <p className="text-sm text-muted">No filesystems were found.</p>;
  return (
    <Table>
      <caption className="sr-only">Filesystems ({facts.filesystems.length})</caption>
      <thead>
        <tr>
          <Th>Device</Th>
          <Th>Type</Th>
          <Th>Mounted at</Th>
          <Th>Label / UUID</Th>
          <Th className="text-right">Size</Th>
          <Th className="text-right">Used</Th>
          <Th className="text-right">Free</Th>
        </tr>
      </thead>
      <tbody>
        {facts.filesystems.map((fs) => (
          <Tr key={fs.device}>
            <Td className="font-mono text-xs">{fs.device}</Td>
            <Td>{fs.type || "—"}</Td>
            <Td className="font-mono text-xs">{fs.mountpoint || "—"}</Td>
            <Td className="font-mono text-xs">
              {fs.label ? <span className="block">{fs.label}</span> : null}
              {fs.uuid ? <span className="block text-muted">{fs.uuid}</span> : null}
              {!fs.label && !fs.uuid ? "—" : null}
            </Td>
            <Td className="text-right">{formatBytes(fs.size)}</Td>
            <Td className="text-right">{formatBytes(fs.used)}</Td>
            <Td className="text-right">{formatBytes(fs.free)}</Td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}

/** The "Contents" section of a version page: what inspection read out of the bytes, or where it stands. */
export function ContentsSection({ contents }: { contents: VersionContents }) {
  const { scan } = contents;
  const label = `${contents.imageSlug} ${contents.version}`;
  const links = (
    <ul aria-label="Compare and export" className="flex flex-wrap items-center gap-2 text-sm">
      {contents.parent ? (
        <li>
          <Link className={buttonClasses({ size: "sm" })} href={compareHref(contents.parent.id, contents.versionId)}>
            Compare with parent ({contents.parent.imageSlug} {contents.parent.version})
          </Link>
        </li>
      ) : null}
      {contents.previous ? (
        <li>
          <Link className={buttonClasses({ size: "sm" })} href={compareHref(contents.previous.id, contents.versionId)}>
            Compare with previous version of this image ({contents.previous.version})
          </Link>
        </li>
      ) : null}
      {scan.status === "succeeded" && scan.facts.osFound ? (
        <li className="flex items-center gap-1.5">
          <span className="text-muted">Download SBOM:</span>
          <a href={`/api/versions/${contents.versionId}/sbom?format=cyclonedx`} download>
            CycloneDX
          </a>
          <span aria-hidden="true">/</span>
          <a href={`/api/versions/${contents.versionId}/sbom?format=spdx`} download>
            SPDX
          </a>
        </li>
      ) : null}
    </ul>
  );

  let body: ReactNode;
  if (!contents.dataReady) {
    body = <p className="text-sm text-muted">Contents are read once the version’s bytes are ready.</p>;
  } else if (scan.status === "none") {
    body = <p className="text-sm text-muted">This version has not been inspected yet.</p>;
  } else if (scan.status === "queued" || scan.status === "running") {
    body = (
      <RefreshWhilePending>
        {scan.status === "queued"
          ? `Inspection queued (since ${formatDateTime(scan.queuedAt)})…`
          : `Inspection running${scan.startedAt ? ` (started ${formatDateTime(scan.startedAt)})` : ""}…`}{" "}
        This page updates when it ends.
      </RefreshWhilePending>
    );
  } else if (scan.status === "failed" || scan.status === "cancelled") {
    body = (
      <p role="alert" className="rounded-md border border-danger bg-danger-soft p-3 text-sm text-danger">
        {scan.status === "failed" ? "Inspection failed" : "Inspection was cancelled"}: {scan.reason}
      </p>
    );
  } else if (scan.status === "succeeded") {
    const { facts } = scan;
    body = (
      <div className="space-y-6">
        {facts.osFound ? (
          <Subsection id="contents-os-heading" title="Operating system">
            <OsFacts facts={facts} />
          </Subsection>
        ) : (
          <p className="rounded-md border border-line bg-raised p-3 text-sm">
            No operating system was found in this image: {facts.noOsReason ?? "inspection found nothing to identify"}.
          </p>
        )}
        <Subsection id="contents-fs-heading" title={`Filesystems (${facts.filesystems.length})`}>
          <Filesystems facts={facts} />
        </Subsection>
        {facts.osFound ? (
          <>
            <div className="grid gap-6 md:grid-cols-3">
              <Subsection id="contents-kernels-heading" title={`Kernels (${facts.kernels.length})`}>
                <NameList label="Kernels" names={facts.kernels} empty="No kernel is installed." />
              </Subsection>
              <Subsection id="contents-users-heading" title={`Users with a login shell (${facts.loginUsers.length})`}>
                <NameList label="Users with a login shell" names={facts.loginUsers} empty="None found." />
              </Subsection>
              <Subsection id="contents-services-heading" title={`Enabled services (${facts.enabledServices.length})`}>
                <NameList label="Enabled services" names={facts.enabledServices} empty="None detected." />
              </Subsection>
            </div>
            <Subsection id="contents-packages-heading" title="Installed packages">
              {contents.packages.length ? (
                <PackageTable packages={contents.packages} caption={`Installed packages of ${label}`} />
              ) : (
                <p className="text-sm text-muted">No installed packages were found.</p>
              )}
            </Subsection>
          </>
        ) : null}
        {facts.finishedAt ? <p className="text-xs text-muted">Inspected {formatDateTime(facts.finishedAt)}.</p> : null}
      </div>
    );
  }

  return (
    <section aria-labelledby="contents-heading" className="space-y-4">
      <h2 id="contents-heading" className="text-base font-semibold">
        Contents
      </h2>
      {links}
      {body}
    </section>
  );
}
