import Link from "next/link";
import type { VersionRow } from "@/db/queries/images";
import { dataStatuses, type DataStatus } from "@/db/enums";
import { DataStatusBadge, ReleaseStatusBadge } from "@/components/ui/badge";
import { formatBytes, humanize, shortHash } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { CopyValue } from "./copy-button";

const isDataStatus = (value: string): value is DataStatus => (dataStatuses as readonly string[]).includes(value);

export function ImageVersionsTable({
  imageName,
  imageSlug,
  versions,
}: {
  imageName: string;
  imageSlug: string;
  versions: VersionRow[];
}) {
  if (!versions.length)
    return <p className="text-muted">No versions yet. Import a disk file to create the first one.</p>;
  return (
    <Table label={`Versions of ${imageName}`}>
      <thead>
        <tr>
          <Th>Version</Th>
          <Th>Format</Th>
          <Th className="text-right">Virtual size</Th>
          <Th className="text-right">File size</Th>
          <Th>SHA-256</Th>
          <Th>Data</Th>
          <Th>Release</Th>
          <Th>Source</Th>
          <Th>Created by</Th>
          <Th>Created</Th>
        </tr>
      </thead>
      <tbody>
        {versions.map((version) => (
          <Tr key={version.id}>
            <Td className="whitespace-nowrap font-medium">
              <Link href={`/images/${imageSlug}/versions/${encodeURIComponent(version.version)}`}>
                {version.version}
              </Link>
            </Td>
            <Td>{version.format ?? <span className="text-muted">—</span>}</Td>
            <Td className="whitespace-nowrap text-right">{formatBytes(version.virtualSize)}</Td>
            <Td className="whitespace-nowrap text-right">{formatBytes(version.fileSize)}</Td>
            <Td className="whitespace-nowrap">
              {version.sha256 ? (
                <CopyValue
                  value={version.sha256}
                  shown={shortHash(version.sha256)}
                  label={`SHA-256 of version ${version.version}`}
                />
              ) : (
                <span className="text-muted">—</span>
              )}
            </Td>
            <Td>
              {isDataStatus(version.dataStatus) ? <DataStatusBadge status={version.dataStatus} /> : version.dataStatus}
              {version.dataStatus === "failed" && version.failureReason ? (
                <p className="mt-1 max-w-80 text-xs text-danger">{version.failureReason}</p>
              ) : null}
            </Td>
            <Td>
              <ReleaseStatusBadge status={version.releaseStatus} />
            </Td>
            <Td>{humanize(version.source)}</Td>
            <Td className="max-w-48 truncate">
              {version.createdByEmail ?? <span className="text-muted">unknown</span>}
            </Td>
            <Td className="text-muted">
              <RelativeTime date={version.createdAt} />
            </Td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}
