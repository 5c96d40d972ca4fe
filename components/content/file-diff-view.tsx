import { formatBytes, formatDateTime } from "@/components/ui/format";
import { Table, Td, Th, Tr } from "@/components/ui/table";
import type { FileDiffView } from "@/db/queries/version-diffs";
import type { FileDiff } from "@/lib/content/types";
import { CancelFileDiffButton } from "./cancel-file-diff-button";
import { CompareFilesButton } from "./compare-files-button";
import { RefreshWhilePending } from "./refresh-while-pending";

const MAX_ROWS = 2000;

const changeLabels: Record<FileDiff["change"], string> = { added: "Added", removed: "Removed", changed: "Changed" };

function sizeText(file: FileDiff): string {
  if (file.change === "added") return formatBytes(file.sizeAfter);
  if (file.change === "removed") return formatBytes(file.sizeBefore);
  return `${formatBytes(file.sizeBefore)} → ${formatBytes(file.sizeAfter)}`;
}

/**
 * The file-level diff of two versions: a button to ask for it, its live status, or the files added,
 * removed and changed with their sizes, and /etc line diffs as plain text (guest content is never HTML).
 */
export function FileDiffSection({
  fromVersionId,
  toVersionId,
  diff,
}: {
  fromVersionId: string;
  toVersionId: string;
  diff: FileDiffView | null;
}) {
  if (!diff)
    return (
      <div className="space-y-2 text-sm">
        <p className="text-muted">Files are compared on disk by a job over both images; it takes a minute or more.</p>
        <CompareFilesButton fromVersionId={fromVersionId} toVersionId={toVersionId} />
      </div>
    );
  if (diff.status === "queued" || diff.status === "running")
    return (
      <div className="space-y-2">
        <RefreshWhilePending>
          {diff.status === "queued"
            ? `File comparison queued (since ${formatDateTime(diff.queuedAt)})…`
            : "Comparing files…"}{" "}
          This page updates when it ends.
        </RefreshWhilePending>
        {diff.canCancel ? <CancelFileDiffButton diffId={diff.id} requested={diff.cancelRequested} /> : null}
      </div>
    );
  if (diff.status === "failed" || diff.status === "cancelled")
    return (
      <div className="space-y-2">
        <p role="alert" className="rounded-md border border-danger bg-danger-soft p-3 text-sm text-danger">
          {diff.status === "failed" ? "The file comparison failed" : "The file comparison was cancelled"}
          {diff.failureReason ? `: ${diff.failureReason}` : "."}
        </p>
        <CompareFilesButton fromVersionId={fromVersionId} toVersionId={toVersionId} label="Compare files again" />
      </div>
    );
  const files = diff.files ?? [];
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const file of files) counts[file.change] += 1;
  // What the comparison could not cover (an image without an OS, a filesystem that didn't mount),
  // or where the stored list was cut.
  const notes = diff.notes.length ? (
    <ul aria-label="About this comparison" className="list-disc space-y-1 pl-5 text-sm text-muted">
      {diff.notes.map((note) => (
        <li key={note}>{note}</li>
      ))}
    </ul>
  ) : null;
  if (!files.length)
    return (
      <div className="space-y-2">
        <p className="text-sm text-muted">No files differ.</p>
        {notes}
      </div>
    );
  const shown = files.slice(0, MAX_ROWS);
  return (
    <div className="space-y-2 text-sm">
      {notes}
      <p>
        <span className="font-medium tabular-nums">{counts.added}</span> added ·{" "}
        <span className="font-medium tabular-nums">{counts.removed}</span> removed ·{" "}
        <span className="font-medium tabular-nums">{counts.changed}</span> changed
        {diff.omitted ? (
          <>
            {" "}
            · <span className="font-medium tabular-nums">{diff.omitted}</span> more not listed
          </>
        ) : null}
        {diff.finishedAt ? <span className="text-muted"> (compared {formatDateTime(diff.finishedAt)})</span> : null}
      </p>
      <div className="max-h-[36rem] overflow-y-auto rounded-lg">
        <Table>
          <caption className="sr-only">Files that differ ({files.length})</caption>
          <thead className="sticky top-0">
            <tr>
              <Th>Path</Th>
              <Th>Change</Th>
              <Th>Type</Th>
              <Th className="text-right">Size</Th>
            </tr>
          </thead>
          <tbody>
            {shown.map((file) => (
              <Tr key={`${file.change}:${file.path}`}>
                <Td className="max-w-[36rem] break-all font-mono text-xs">
                  {file.path}
                  {file.details?.length ? (
                    <span className="mt-0.5 block font-sans text-muted">{file.details.join(" · ")}</span>
                  ) : null}
                  {file.lineDiff ? (
                    <details className="mt-1">
                      <summary className="cursor-pointer font-sans text-accent">Line changes</summary>
                      <pre className="mt-1 max-h-80 overflow-auto whitespace-pre rounded border border-line bg-raised p-2 text-xs">
                        {file.lineDiff}
                      </pre>
                    </details>
                  ) : null}
                </Td>
                <Td>{changeLabels[file.change]}</Td>
                <Td>{file.type}</Td>
                <Td className="whitespace-nowrap text-right">{sizeText(file)}</Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      </div>
      {files.length > shown.length ? (
        <p className="text-muted">
          The first {shown.length} of {files.length} files are shown.
        </p>
      ) : null}
    </div>
  );
}
