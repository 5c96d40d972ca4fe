import { Badge, type BadgeTone } from "@/components/ui/badge";
import type { BootResult } from "@/db/queries/content";
import { formatDuration } from "@/lib/format";

const resultLabels: Record<string, { tone: BadgeTone; label: string }> = {
  passed: { tone: "success", label: "Boot test passed" },
  failed: { tone: "danger", label: "Boot test failed" },
  timed_out: { tone: "danger", label: "Boot test timed out" },
  not_bootable: { tone: "danger", label: "Not bootable" },
};

/** The latest boot test of a version as one badge: its verdict, or where the test stands. */
export function BootBadge({ boot }: { boot: BootResult | null }) {
  if (!boot) return <Badge>Not boot-tested</Badge>;
  if (boot.status === "queued" || boot.status === "running")
    return <Badge tone="accent">{boot.status === "queued" ? "Boot test queued" : "Boot test running"}</Badge>;
  if (boot.status === "cancelled") return <Badge>Boot test cancelled</Badge>;
  if (boot.status === "failed")
    return (
      <Badge tone="warning" title={boot.failureReason ?? undefined}>
        Boot test could not run
      </Badge>
    );
  const shown = resultLabels[boot.result ?? ""] ?? { tone: "neutral" as const, label: "Boot test ended" };
  return (
    <Badge tone={shown.tone} title={boot.failureReason ?? undefined}>
      {shown.label}
      {boot.durationMs !== null ? ` in ${formatDuration(boot.durationMs)}` : ""}
    </Badge>
  );
}
