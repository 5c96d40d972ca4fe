import Link from "next/link";
import { formatBytes } from "@/components/ui/format";
import type { StorageBreakdown } from "@/db/queries/projects";

const WIDTH = 560;
const HEIGHT = 120;

/** Stored bytes over time as a step chart, the quota as a line, and the biggest images; all also as text. */
export function StorageChart({ breakdown, quotaBytes }: { breakdown: StorageBreakdown; quotaBytes: number }) {
  const { history, byImage } = breakdown;
  if (history.length === 0) return null;
  const today = new Date().toISOString().slice(0, 10);
  const points = history.at(-1)!.day === today ? history : [...history, { day: today, bytes: history.at(-1)!.bytes }];
  const first = Date.parse(points[0]!.day);
  const span = Math.max(Date.parse(points.at(-1)!.day) - first, 24 * 3600 * 1000);
  const top = Math.max(points.at(-1)!.bytes, 1) * 1.15;
  const x = (day: string) => ((Date.parse(day) - first) / span) * WIDTH;
  const y = (bytes: number) => HEIGHT - (bytes / top) * HEIGHT;
  let path = `M0,${HEIGHT}`;
  let previous = 0;
  for (const point of points) {
    path += ` L${x(point.day).toFixed(1)},${y(previous).toFixed(1)} L${x(point.day).toFixed(1)},${y(point.bytes).toFixed(1)}`;
    previous = point.bytes;
  }
  path += ` L${WIDTH},${y(previous).toFixed(1)} L${WIDTH},${HEIGHT} Z`;
  const biggest = byImage[0]?.bytes ?? 1;
  return (
    <div className="grid max-w-4xl gap-6 md:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
      <figure className="space-y-1">
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          className="h-32 w-full rounded-md border border-line bg-surface"
          role="img"
          aria-label={`Stored bytes from ${points[0]!.day} (${formatBytes(points[0]!.bytes)}) to ${today} (${formatBytes(previous)}); quota ${formatBytes(quotaBytes)}`}
          preserveAspectRatio="none"
        >
          <path d={path} className="fill-accent/25 stroke-accent" strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
          {quotaBytes <= top ? (
            <line
              x1={0}
              x2={WIDTH}
              y1={y(quotaBytes)}
              y2={y(quotaBytes)}
              className="stroke-danger"
              strokeDasharray="4 3"
              vectorEffect="non-scaling-stroke"
            />
          ) : null}
        </svg>
        <div className="flex justify-between text-xs tabular-nums text-muted" aria-hidden="true">
          <span>{points[0]!.day}</span>
          <span>{today}</span>
        </div>
        <figcaption className="text-xs text-muted">
          Bytes stored by the versions that exist today, by the day each was added; now {formatBytes(previous)}. The
          dashed line is the quota when it is in view.
        </figcaption>
      </figure>
      <ul aria-label="Largest images" className="space-y-1.5 text-sm">
        {byImage.map((image) => (
          <li key={image.slug} className="space-y-0.5">
            <div className="flex justify-between gap-2">
              <Link href={`/images/${image.slug}`} className="truncate">
                {image.name}
              </Link>
              <span className="shrink-0 tabular-nums text-muted">
                {formatBytes(image.bytes)}
                {image.linked ? ` · ${image.linked} linked` : ""}
              </span>
            </div>
            <div className="h-1.5 rounded-full bg-raised" aria-hidden="true">
              <div
                className="h-full rounded-full bg-accent"
                style={{ width: `${Math.max(2, (image.bytes / biggest) * 100)}%` }}
              />
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
