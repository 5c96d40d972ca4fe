"use client";

import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { importKeys } from "@/components/ui/query-keys";
import type { VersionProgress } from "@/db/queries/images";
import { ProgressBar } from "./progress-bar";

const settled = (status: string | undefined) => status === "ready" || status === "failed";

async function fetchProgress(versionId: string, signal: AbortSignal): Promise<VersionProgress> {
  const response = await fetch(`/api/versions/${versionId}/status`, { signal });
  if (!response.ok) throw new Error(`status ${response.status}`);
  return (await response.json()) as VersionProgress;
}

/** A version's data status and bytes, polled every second until it is ready or failed. */
export function useVersionProgress(versionId: string) {
  return useQuery({
    queryKey: importKeys.version(versionId),
    queryFn: ({ signal }) => fetchProgress(versionId, signal),
    refetchInterval: (query) => (settled(query.state.data?.dataStatus) ? false : 1000),
  });
}

/** What a version still on its way is doing, with its progress bar. */
export function VersionProgressBar({
  progress,
  label,
  activity,
}: {
  progress: Pick<VersionProgress, "dataStatus" | "bytesReceived" | "bytesTotal">;
  /** The progress bar's accessible name. */
  label: string;
  /** What is happening while it imports, such as "Downloading and inspecting…". */
  activity: string;
}) {
  return (
    <div className="space-y-1">
      <p className="text-sm text-muted">
        {progress.dataStatus === "queued"
          ? "Waiting for a worker…"
          : progress.dataStatus === "uploading"
            ? "Uploading…"
            : activity}
      </p>
      <ProgressBar label={label} done={progress.bytesReceived} total={progress.bytesTotal} />
    </div>
  );
}

/**
 * The live progress of a version that is queued, uploading or importing, for pages rendered on the
 * server: it polls the status and refreshes the page once the version is ready or has failed.
 */
export function LiveVersionProgress({
  versionId,
  initial,
  label,
  activity,
}: {
  versionId: string;
  initial: Pick<VersionProgress, "dataStatus" | "bytesReceived" | "bytesTotal">;
  label: string;
  activity: string;
}) {
  const router = useRouter();
  const progress = useVersionProgress(versionId);
  const status = progress.data?.dataStatus;
  const refreshed = useRef(false);
  useEffect(() => {
    if (settled(status) && !refreshed.current) {
      refreshed.current = true;
      router.refresh();
    }
  }, [status, router]);
  return (
    <section aria-label={label} className="rounded-md border border-line p-3">
      <VersionProgressBar progress={progress.data ?? initial} label={label} activity={activity} />
    </section>
  );
}
