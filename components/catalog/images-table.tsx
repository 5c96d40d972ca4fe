import Link from "next/link";
import type { CatalogImageRow } from "@/db/queries/catalog";
import { ReleaseStatusBadge, TagChip } from "@/components/ui/badge";
import { formatBytes } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import { BulkSelection, BulkTagBar, RowCheckbox, SelectAllCheckbox } from "./bulk-selection";

const MAX_TAGS_SHOWN = 3;

export function ImagesTable({ rows }: { rows: CatalogImageRow[] }) {
  return (
    <BulkSelection pageIds={rows.map((row) => row.id)}>
      <Table label="Images">
        <thead>
          <tr>
            <Th className="w-8">
              <SelectAllCheckbox />
            </Th>
            <Th>Name</Th>
            <Th>OS</Th>
            <Th>Arch</Th>
            <Th title="Newest ready version">Version</Th>
            <Th>Format</Th>
            <Th className="text-right" title="Virtual size of the newest version">
              Size
            </Th>
            <Th>Status</Th>
            <Th>Tags</Th>
            <Th>Project</Th>
            <Th>Updated</Th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <Tr key={row.id}>
              <Td>
                <RowCheckbox id={row.id} name={row.name} />
              </Td>
              <Td className="max-w-72">
                <Link href={`/images/${row.slug}`} className="block truncate font-medium">
                  {row.name}
                </Link>
                {row.usageCount > 0 ? (
                  <span className="text-xs text-muted" title="Clones and builds that used one of its versions">
                    used {row.usageCount}×
                  </span>
                ) : null}
              </Td>
              <Td className="whitespace-nowrap">
                {row.os} {row.osVersion}
              </Td>
              <Td>
                <code>{row.arch}</code>
              </Td>
              <Td className="whitespace-nowrap">
                {row.latestVersion ?? <span className="text-muted">none yet</span>}
                {row.versionCount > 1 ? <span className="ml-1 text-xs text-muted">of {row.versionCount}</span> : null}
                {row.channels.map((channel) => (
                  <span
                    key={channel}
                    className="ml-1.5 rounded border border-line px-1 text-xs text-muted"
                    title={`Channel ${channel}`}
                  >
                    {channel}
                  </span>
                ))}
              </Td>
              <Td>{row.latestFormat ?? <span className="text-muted">—</span>}</Td>
              <Td className="whitespace-nowrap text-right">
                {row.latestVersion ? formatBytes(row.latestVirtualSize) : "—"}
              </Td>
              <Td>
                <ReleaseStatusBadge status={row.latestReleaseStatus} />
              </Td>
              <Td>
                <div className="flex gap-1">
                  {row.tags.slice(0, MAX_TAGS_SHOWN).map((tag) => (
                    <TagChip key={tag}>{tag}</TagChip>
                  ))}
                  {row.tags.length > MAX_TAGS_SHOWN ? (
                    <span
                      className="whitespace-nowrap text-xs text-muted"
                      title={row.tags.slice(MAX_TAGS_SHOWN).join(", ")}
                    >
                      +{row.tags.length - MAX_TAGS_SHOWN} more
                    </span>
                  ) : null}
                </div>
              </Td>
              <Td className="whitespace-nowrap">{row.projectName}</Td>
              <Td className="text-muted">
                <RelativeTime date={row.updatedAt} />
              </Td>
            </Tr>
          ))}
        </tbody>
      </Table>
      <BulkTagBar />
    </BulkSelection>
  );
}
