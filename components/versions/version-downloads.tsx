"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ActionMessage } from "@/components/ui/action-message";
import { buttonClasses, Button } from "@/components/ui/button";
import { formatBytes } from "@/components/ui/format";
import { conversionKeys } from "@/components/ui/query-keys";
import { useServerAction } from "@/components/ui/use-server-action";
import type { ConversionRow } from "@/db/queries/versions";
import { requestConversionServerAction } from "@/lib/actions/imports";
import { ProgressBar } from "@/components/imports/progress-bar";

const targets = ["qcow2", "raw", "vmdk", "vhdx"] as const;

async function fetchConversions(versionId: string, signal: AbortSignal): Promise<ConversionRow[]> {
  const response = await fetch(`/api/versions/${versionId}/conversions`, { signal });
  if (!response.ok) throw new Error(`conversions ${response.status}`);
  return ((await response.json()) as { conversions: ConversionRow[] }).conversions;
}

export function VersionDownloads({
  versionId,
  format,
  fileSize,
  linked = false,
}: {
  versionId: string;
  format: string;
  fileSize: number;
  linked?: boolean;
}) {
  const queryClient = useQueryClient();
  const { pending, run, outcome } = useServerAction();
  const conversions = useQuery({
    queryKey: conversionKeys.version(versionId),
    queryFn: ({ signal }) => fetchConversions(versionId, signal),
    refetchInterval: (query) =>
      query.state.data?.some((row) => row.status === "queued" || row.status === "running") ? 1000 : false,
  });
  const byFormat = new Map((conversions.data ?? []).map((row) => [row.targetFormat, row]));

  const convert = (target: string) =>
    run(() => requestConversionServerAction({ versionId, format: target }), {
      refresh: false,
      onSettled: () => queryClient.invalidateQueries({ queryKey: conversionKeys.version(versionId) }),
    });

  return (
    <div className="space-y-3">
      {linked ? (
        <p className="text-sm text-muted">
          This is a linked clone: its own file ({formatBytes(fileSize)}) only holds what differs from its base.
          Downloads are flattened into a self-contained file first.
        </p>
      ) : (
        <a href={`/api/versions/${versionId}/download`} className={buttonClasses({ variant: "primary" })} download>
          Download {format} ({formatBytes(fileSize)})
        </a>
      )}
      <ul className="space-y-2" aria-label="Converted downloads">
        {targets
          .filter((target) => linked || target !== format)
          .map((target) => {
            const row = byFormat.get(target);
            return (
              <li key={target} className="flex flex-wrap items-center gap-3 text-sm">
                <span className="w-14 font-medium">{target}</span>
                {row?.status === "succeeded" && row.fileSize !== null ? (
                  <a
                    href={`/api/versions/${versionId}/download?format=${target}`}
                    className={buttonClasses({ size: "sm" })}
                    download
                  >
                    Download {target} ({formatBytes(row.fileSize)})
                  </a>
                ) : row && (row.status === "queued" || row.status === "running") ? (
                  <div className="min-w-60 flex-1">
                    <ProgressBar label={`Converting to ${target}`} done={row.progress} total={100} unit="percent" />
                  </div>
                ) : (
                  <Button size="sm" disabled={pending} onClick={() => convert(target)}>
                    {row?.status === "failed"
                      ? `Retry conversion to ${target}`
                      : linked && target === format
                        ? `Flatten to ${target}`
                        : `Convert to ${target}`}
                  </Button>
                )}
                {row?.status === "failed" && row.failureReason ? (
                  <span className="text-xs text-danger">{row.failureReason}</span>
                ) : null}
              </li>
            );
          })}
      </ul>
      <ActionMessage outcome={outcome} />
    </div>
  );
}
