"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ProgressBar } from "@/components/imports/progress-bar";
import { cloneKeys } from "@/components/ui/query-keys";
import type { CloneRow } from "@/db/queries/clones";

const active = (row: CloneRow) => row.status === "queued" || row.status === "running";

/** `query` is the /api/clones query string: projectId=… or ids=…. */
export async function fetchClones(query: string, signal?: AbortSignal): Promise<CloneRow[]> {
  const response = await fetch(`/api/clones?${query}`, { signal });
  if (!response.ok) throw new Error(`clones ${response.status}`);
  return ((await response.json()) as { clones: CloneRow[] }).clones.map((row) => ({
    ...row,
    createdAt: new Date(row.createdAt),
  }));
}

/**
 * Clone requests with live progress: polls while any of them is still being made. One query per
 * list, so a slow answer can't overwrite a newer one.
 */
export function CloneList({
  initial,
  query,
  empty = "No clones yet.",
}: {
  initial: CloneRow[];
  query: string;
  empty?: string;
}) {
  const clones = useQuery({
    queryKey: cloneKeys.list(query),
    queryFn: ({ signal }) => fetchClones(query, signal),
    initialData: initial,
    refetchInterval: (current) => (current.state.data?.some(active) ? 1000 : false),
  });
  const rows = clones.data;
  if (rows.length === 0) return <p className="text-sm text-muted">{empty}</p>;
  return (
    <ul className="space-y-3" aria-label="Clones">
      {rows.map((row) => (
        <li key={row.id} className="space-y-1.5 rounded-md border border-line p-3 text-sm">
          <p className="flex flex-wrap items-baseline gap-x-2">
            <span className="font-medium">
              {row.sourceImageSlug} {row.sourceVersion} →{" "}
              {row.result ? (
                <Link href={`/images/${row.result.imageSlug}/versions/${encodeURIComponent(row.result.version)}`}>
                  {row.targetLabel}
                </Link>
              ) : (
                row.targetLabel
              )}
            </span>
            <span className="text-muted">
              {row.mode === "linked" ? "linked" : "full copy"}
              {row.resetOperations.length ? `, identity reset (${row.resetOperations.join(", ")})` : ""} ·{" "}
              {row.requestedBy ?? "someone"}
            </span>
            <span
              className={row.status === "failed" ? "text-danger" : row.status === "succeeded" ? "text-success" : ""}
            >
              {row.status === "succeeded" ? "done" : row.status}
            </span>
          </p>
          {active(row) ? (
            <ProgressBar
              label={`Clone into ${row.targetLabel}: ${row.stage}`}
              done={row.progress}
              total={100}
              unit="percent"
            />
          ) : null}
          {active(row) ? <p className="text-xs text-muted">{row.stage}</p> : null}
          {row.status === "failed" && row.failureReason ? (
            <p role="alert" className="text-danger">
              {row.failureReason}
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
