import type { ReactNode } from "react";
import type { BuildStatus, DataStatus, ReleaseStatus, Visibility } from "@/db/enums";
import { cx } from "./cx";
import { humanize } from "./format";

export type BadgeTone = "neutral" | "accent" | "success" | "warning" | "danger";

// Each tone keeps at least 4.5:1 text contrast on its own background in both themes.
const tones: Record<BadgeTone, { badge: string; dot: string }> = {
  neutral: { badge: "bg-raised text-muted border-line", dot: "bg-zinc-400 dark:bg-zinc-500" },
  accent: { badge: "bg-accent-soft text-accent-strong border-transparent", dot: "bg-accent" },
  success: {
    badge:
      "bg-emerald-50 text-emerald-800 border-emerald-200 dark:bg-emerald-950 dark:text-emerald-200 dark:border-emerald-900",
    dot: "bg-emerald-600 dark:bg-emerald-400",
  },
  warning: {
    badge: "bg-amber-50 text-amber-900 border-amber-200 dark:bg-amber-950 dark:text-amber-200 dark:border-amber-900",
    dot: "bg-amber-500 dark:bg-amber-400",
  },
  danger: {
    badge: "bg-red-50 text-red-800 border-red-200 dark:bg-red-950 dark:text-red-200 dark:border-red-900",
    dot: "bg-red-600 dark:bg-red-400",
  },
};

export function Badge({
  tone = "neutral",
  dot = true,
  children,
  title,
}: {
  tone?: BadgeTone;
  dot?: boolean;
  children: ReactNode;
  title?: string;
}) {
  return (
    <span
      title={title}
      className={cx(
        "inline-flex items-center gap-1.5 whitespace-nowrap rounded-full border px-2 py-px text-xs font-medium",
        tones[tone].badge,
      )}
    >
      {dot ? <span aria-hidden="true" className={cx("size-1.5 rounded-full", tones[tone].dot)} /> : null}
      {children}
    </span>
  );
}

const releaseTones: Record<ReleaseStatus, BadgeTone> = {
  draft: "neutral",
  pending_review: "warning",
  approved: "success",
  rejected: "danger",
  deprecated: "warning",
  disabled: "neutral",
  revoked: "danger",
};

const releaseLabels: Record<ReleaseStatus, string> = {
  draft: "Draft",
  pending_review: "Pending review",
  approved: "Approved",
  rejected: "Rejected",
  deprecated: "Deprecated",
  disabled: "Disabled",
  revoked: "Revoked",
};

export function releaseStatusLabel(status: ReleaseStatus): string {
  return releaseLabels[status];
}

export function ReleaseStatusBadge({ status }: { status: ReleaseStatus | null }) {
  if (!status) return <span className="text-muted">—</span>;
  return <Badge tone={releaseTones[status]}>{releaseLabels[status]}</Badge>;
}

const dataTones: Record<DataStatus, BadgeTone> = {
  queued: "neutral",
  uploading: "accent",
  importing: "accent",
  ready: "success",
  failed: "danger",
};

export function DataStatusBadge({ status }: { status: DataStatus }) {
  return <Badge tone={dataTones[status]}>{humanize(status)}</Badge>;
}

const visibilityTones: Record<Visibility, BadgeTone> = { private: "neutral", shared: "accent", public: "success" };

export function VisibilityBadge({ visibility }: { visibility: Visibility }) {
  return <Badge tone={visibilityTones[visibility]}>{humanize(visibility)}</Badge>;
}

export function TagChip({ children }: { children: ReactNode }) {
  return (
    <span className="inline-flex items-center whitespace-nowrap rounded border border-line bg-raised px-1.5 text-xs text-fg">
      {children}
    </span>
  );
}

const buildTones: Record<BuildStatus, BadgeTone> = {
  queued: "neutral",
  running: "accent",
  succeeded: "success",
  failed: "danger",
  cancelled: "neutral",
};

export function BuildStatusBadge({ status }: { status: BuildStatus }) {
  return <Badge tone={buildTones[status]}>{humanize(status)}</Badge>;
}
