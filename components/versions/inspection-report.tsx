import { formatBytes } from "@/components/ui/format";
import type { StoredInspection } from "@/lib/images/inspector/types";

/** What the inspector and qemu-img found, in words first and the raw report after. */
export function InspectionReport({ report }: { report: StoredInspection | null }) {
  if (!report) return <p className="text-muted">No inspection report: the file has not been inspected yet.</p>;
  const problems = Array.isArray(report.problems) ? report.problems : [];
  const safe = report.safe === true;
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-[10rem_minmax(0,1fr)] gap-x-4 gap-y-1.5 text-sm">
        <dt className="text-muted">Verdict</dt>
        <dd className={safe ? "text-success" : "text-danger"}>
          {!safe
            ? "Refused"
            : report.linkedClone
              ? "Made by Hangar: a qcow2 overlay whose only backing file is its parent's stored file (checked with qemu-img). Downloads are flattened."
              : "Safe: self-contained, format confirmed by qemu-img"}
        </dd>
        <dt className="text-muted">Detected format</dt>
        <dd>{String(report.format ?? "—")}</dd>
        <dt className="text-muted">Virtual size</dt>
        <dd>
          {typeof report.virtualSize === "number"
            ? `${formatBytes(report.virtualSize)} (${report.virtualSize.toLocaleString("en")} bytes)`
            : "—"}
        </dd>
      </dl>
      {problems.length ? (
        <ul className="list-disc space-y-1 pl-5 text-sm text-danger">
          {problems.map((problem, index) => (
            <li key={`${problem.code ?? "problem"}-${index}`}>{problem.message ?? problem.code}</li>
          ))}
        </ul>
      ) : null}
      <details className="rounded-md border border-line">
        <summary className="cursor-pointer px-3 py-1.5 text-sm font-medium">Full report</summary>
        <pre className="max-h-96 overflow-auto border-t border-line p-3 text-xs leading-relaxed">
          {JSON.stringify(report, null, 2)}
        </pre>
      </details>
    </div>
  );
}
