import { Badge, type BadgeTone } from "@/components/ui/badge";
import { formatDuration } from "@/lib/format";

const words: Record<string, [BadgeTone, string]> = {
  passed: ["success", "Passed"],
  failed: ["danger", "Failed"],
  timed_out: ["warning", "Timed out"],
  not_bootable: ["danger", "Not bootable"],
};

/** A version's latest boot test in one badge (the review queue). */
export function BootTestBadge({
  test,
}: {
  test: { status: string; result: string | null; durationMs: number | null } | null;
}) {
  if (!test) return <span className="text-muted">Not tested</span>;
  if (test.status === "queued" || test.status === "running")
    return <Badge tone="accent">{test.status === "queued" ? "Queued" : "Booting"}</Badge>;
  if (test.status === "cancelled") return <Badge>Cancelled</Badge>;
  if (test.status === "failed") return <Badge tone="danger">Could not run</Badge>;
  const [tone, label] = words[test.result ?? ""] ?? ["danger", "Failed"];
  return (
    <span>
      <Badge tone={tone}>{label}</Badge>
      {test.durationMs !== null ? (
        <span className="ml-2 text-xs text-muted">{formatDuration(test.durationMs)}</span>
      ) : null}
    </span>
  );
}
