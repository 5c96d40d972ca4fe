import Link from "next/link";
import { BuildStatusBadge } from "@/components/ui/badge";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import { RelativeTime } from "@/components/ui/time";
import type { BuildRow } from "@/db/queries/builds";

function duration(build: BuildRow): string {
  if (!build.startedAt) return "—";
  const seconds = Math.round(((build.finishedAt ?? new Date()).getTime() - build.startedAt.getTime()) / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export function BuildsTable({ builds, label = "Builds" }: { builds: BuildRow[]; label?: string }) {
  return (
    <Table label={label}>
      <thead>
        <tr>
          <Th>Build</Th>
          <Th>Status</Th>
          <Th>Recipe</Th>
          <Th>Base</Th>
          <Th>Output</Th>
          <Th>Who</Th>
          <Th>Queued</Th>
          <Th className="text-right">Duration</Th>
        </tr>
      </thead>
      <tbody>
        {builds.map((build) => (
          <Tr key={build.id}>
            <Td>
              <Link href={`/builds/${build.id}`} className="font-medium">
                #{build.number}
              </Link>
            </Td>
            <Td>
              <BuildStatusBadge status={build.status} />
            </Td>
            <Td>
              <Link href={`/recipes/${build.recipeId}`}>{build.recipeName}</Link>{" "}
              <span className="text-muted">r{build.revision}</span>
            </Td>
            <Td>
              {build.baseImage} <span className="text-muted">{build.baseVersion}</span>
            </Td>
            <Td>
              {build.outputImage && build.outputVersion ? (
                <Link href={`/images/${build.outputImage}/versions/${encodeURIComponent(build.outputVersion)}`}>
                  {build.outputImage} {build.outputVersion}
                </Link>
              ) : (
                <span className="text-muted">—</span>
              )}
            </Td>
            <Td>{build.requestedBy ?? "—"}</Td>
            <Td>
              <RelativeTime date={build.queuedAt} />
            </Td>
            <Td className="text-right">{duration(build)}</Td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}
