import { formatBytes } from "@/components/ui/format";

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A progress bar with the numbers a person waits on: bytes, speed and time left. */
export function ProgressBar({
  label,
  done,
  total,
  bytesPerSecond,
  unit = "bytes",
}: {
  label: string;
  done: number;
  total: number | null;
  bytesPerSecond?: number | null;
  unit?: "bytes" | "percent";
}) {
  const percent = total && total > 0 ? Math.min(100, (done / total) * 100) : null;
  const remaining = total && bytesPerSecond && bytesPerSecond > 0 ? (total - done) / bytesPerSecond : null;
  return (
    <div className="space-y-1.5">
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent === null ? undefined : Math.floor(percent)}
        aria-valuetext={percent === null ? `${formatBytes(done)} received` : `${Math.floor(percent)}%`}
        className="h-2 w-full overflow-hidden rounded-full bg-raised"
      >
        <div
          className="h-full rounded-full bg-accent transition-[width] duration-300"
          style={{ width: `${percent ?? 0}%` }}
        />
      </div>
      <p className="flex flex-wrap gap-x-4 text-xs tabular-nums text-muted">
        {unit === "percent" ? <span>{Math.floor(percent ?? 0)}%</span> : null}
        <span hidden={unit === "percent"}>
          {formatBytes(done)}
          {total ? ` of ${formatBytes(total)}` : ""}
          {percent !== null ? ` (${Math.floor(percent)}%)` : ""}
        </span>
        {bytesPerSecond ? <span>{formatBytes(bytesPerSecond)}/s</span> : null}
        {remaining !== null ? <span>{formatDuration(remaining)} left</span> : null}
      </p>
    </div>
  );
}
