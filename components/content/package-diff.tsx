import Link from "next/link";
import type { PackageChange, PackageDiff } from "@/db/queries/packages";
import type { ContentPackage } from "@/lib/content/types";
import { Table, Td, Th, Tr } from "@/components/ui/table";

const kinds = [
  { key: "added", label: "Added", verb: "added" },
  { key: "removed", label: "Removed", verb: "removed" },
  { key: "upgraded", label: "Upgraded", verb: "upgraded" },
  { key: "downgraded", label: "Downgraded", verb: "downgraded" },
] as const;

function changeText(change: PackageChange | ContentPackage) {
  if (!("from" in change)) return change.version;
  return `${change.from} → ${change.to}`;
}

export function packageDiffSummary(diff: PackageDiff): string {
  const parts = kinds.map((kind) => `${diff[kind.key].length} ${kind.verb}`);
  return parts.join(", ");
}

/**
 * Packages added, removed, upgraded and downgraded between two versions: counts, and each list in
 * a disclosure (open by default when `open` and the list is short).
 */
export function PackageDiffView({ diff, open = false }: { diff: PackageDiff; open?: boolean }) {
  const total = kinds.reduce((sum, kind) => sum + diff[kind.key].length, 0);
  if (total === 0) return <p className="text-sm text-muted">The installed packages are the same.</p>;
  return (
    <div className="space-y-2 text-sm">
      <p>
        <span className="sr-only">Package changes: </span>
        {kinds.map((kind, index) => (
          <span key={kind.key}>
            {index ? " · " : ""}
            <span className="font-medium tabular-nums">{diff[kind.key].length}</span> {kind.verb}
          </span>
        ))}
      </p>
      {kinds
        .filter((kind) => diff[kind.key].length > 0)
        .map((kind) => (
          <details key={kind.key} open={open && diff[kind.key].length <= 30} className="rounded-md border border-line">
            <summary className="cursor-pointer select-none px-3 py-1.5 font-medium">
              {kind.label} ({diff[kind.key].length})
            </summary>
            <div className="border-t border-line p-2">
              <Table>
                <caption className="sr-only">
                  Packages {kind.verb} ({diff[kind.key].length})
                </caption>
                <thead>
                  <tr>
                    <Th>Package</Th>
                    <Th>Architecture</Th>
                    <Th>{kind.key === "added" ? "Version" : kind.key === "removed" ? "Version" : "Old → new"}</Th>
                  </tr>
                </thead>
                <tbody>
                  {diff[kind.key].map((change) => (
                    <Tr key={`${change.name}:${change.arch}`}>
                      <Td>
                        <Link href={`/packages/${encodeURIComponent(change.name)}`}>{change.name}</Link>
                      </Td>
                      <Td>{change.arch || "—"}</Td>
                      <Td className="font-mono text-xs">{changeText(change)}</Td>
                    </Tr>
                  ))}
                </tbody>
              </Table>
            </div>
          </details>
        ))}
    </div>
  );
}
