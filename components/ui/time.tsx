import { formatDateTime, formatRelativeTime } from "./format";

/** Relative time for scanning a table, with the exact time on hover and for machines. */
export function RelativeTime({ date }: { date: Date }) {
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date)} className="whitespace-nowrap">
      {formatRelativeTime(date)}
    </time>
  );
}
