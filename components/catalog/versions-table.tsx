import Link from "next/link";
import type { CatalogVersionRow } from "@/db/queries/catalog";
import { DataStatusBadge, ReleaseStatusBadge } from "@/components/ui/badge";
import { formatBytes } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";

export function VersionsTable({ rows }: { rows: CatalogVersionRow[] }) {
  return (
    <Table label="Versions">
      <thead>
        <tr>
          <Th>Image</Th>
          <Th>Version</Th>
          <Th>OS</Th>
          <Th>Architecture</Th>
          <Th>Format</Th>
          <Th className="text-right">Virtual size</Th>
          <Th className="text-right">File size</Th>
          <Th>Data</Th>
          <Th>Release</Th>
          <Th>Project</Th>
          <Th>Created</Th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <Tr key={row.id}>
            <Td className="max-w-72">
              <Link href={`/images/${row.imageSlug}`} className="block truncate font-medium">
                {row.imageName}
              </Link>
            </Td>
            <Td className="whitespace-nowrap">{row.version}</Td>
            <Td className="whitespace-nowrap">
              {row.os} {row.osVersion}
            </Td>
            <Td>
              <code>{row.arch}</code>
            </Td>
            <Td>{row.format ?? <span className="text-muted">—</span>}</Td>
            <Td className="whitespace-nowrap text-right">{formatBytes(row.virtualSize)}</Td>
            <Td className="whitespace-nowrap text-right">{formatBytes(row.fileSize)}</Td>
            <Td>
              <DataStatusBadge status={row.dataStatus} />
            </Td>
            <Td>
              <ReleaseStatusBadge status={row.releaseStatus} />
            </Td>
            <Td className="whitespace-nowrap">{row.projectSlug}</Td>
            <Td className="text-muted">
              <RelativeTime date={row.createdAt} />
            </Td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}
