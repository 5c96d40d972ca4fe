"use client";

import Link from "next/link";
import { useEffect, useId, useRef, useState } from "react";
import { Upload, type PreviousUpload } from "tus-js-client";
import { Button } from "@/components/ui/button";
import { describedBy, Field, Input } from "@/components/ui/input";
import { formatBytes } from "@/components/ui/format";
import { ClaimedFormatField } from "./claimed-format-field";
import { ProgressBar } from "./progress-bar";

type Phase =
  | { kind: "idle" }
  | { kind: "uploading"; paused: boolean }
  | { kind: "done" }
  | { kind: "failed"; message: string }
  | { kind: "cancelled" };

function serverMessage(error: unknown): string {
  const response = (error as { originalResponse?: { getBody(): string; getStatus(): number } | null }).originalResponse;
  if (response) {
    try {
      const parsed = JSON.parse(response.getBody()) as { error?: { message?: string } };
      if (parsed.error?.message) return parsed.error.message;
    } catch {
      // Not JSON: fall through to the generic message with the status.
    }
    return `The server refused the upload (HTTP ${response.getStatus()}).`;
  }
  return "The connection to the server was lost. Pick the same file again to resume where it stopped.";
}

/** Speed over the last few seconds, so a stall shows quickly and one burst doesn't dominate. */
function useSpeed() {
  const samples = useRef<{ at: number; bytes: number }[]>([]);
  return {
    reset() {
      samples.current = [];
    },
    sample(bytes: number): number | null {
      const now = performance.now();
      samples.current = [...samples.current.filter((sample) => now - sample.at < 5000), { at: now, bytes }];
      const first = samples.current[0];
      if (!first || now - first.at < 500) return null;
      return ((bytes - first.bytes) * 1000) / (now - first.at);
    },
  };
}

export function UploadPanel({
  imageId,
  imageName,
  imageSlug,
  suggestedVersion,
}: {
  imageId: string;
  imageName: string;
  imageSlug: string;
  suggestedVersion: string;
}) {
  const ids = { file: useId(), version: useId(), format: useId(), sha: useId() };
  const [file, setFile] = useState<File | null>(null);
  const [version, setVersion] = useState(suggestedVersion);
  const [format, setFormat] = useState("detect");
  const [sha256, setSha256] = useState("");
  const [dragging, setDragging] = useState(false);
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [progress, setProgress] = useState({ done: 0, total: 0, speed: null as number | null });
  const [previous, setPrevious] = useState<PreviousUpload | null>(null);
  const upload = useRef<Upload | null>(null);
  const speed = useSpeed();

  useEffect(() => () => void upload.current?.abort(), []);

  const prepare = (picked: File | null) => {
    setFile(picked);
    setPhase({ kind: "idle" });
    setPrevious(null);
    if (!picked) return;
    // An earlier upload of this same file (same name, size and date) can continue where it stopped.
    const probe = new Upload(picked, { endpoint: "/api/uploads" });
    void probe.findPreviousUploads().then((found) => {
      const match = found.find((candidate) => candidate.metadata.imageId === imageId);
      setPrevious(match ?? null);
      if (match?.metadata.version) setVersion(match.metadata.version);
    });
  };

  const start = (resumeFrom: PreviousUpload | null) => {
    if (!file) return;
    speed.reset();
    const next = new Upload(file, {
      endpoint: "/api/uploads",
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      removeFingerprintOnSuccess: true,
      metadata: { imageId, version, format, sha256: sha256.trim(), filename: file.name },
      onProgress(done, total) {
        setProgress({ done, total, speed: speed.sample(done) });
      },
      onSuccess() {
        setPhase({ kind: "done" });
      },
      onError(error) {
        setPhase({ kind: "failed", message: serverMessage(error) });
      },
      onShouldRetry(error) {
        const status =
          (error as { originalResponse?: { getStatus(): number } | null }).originalResponse?.getStatus() ?? 0;
        // Refusals are final; only network trouble and server hiccups are worth retrying.
        return status === 0 || status === 409 || status === 423 || status >= 500;
      },
    });
    if (resumeFrom) next.resumeFromPreviousUpload(resumeFrom);
    upload.current = next;
    setPhase({ kind: "uploading", paused: false });
    next.start();
  };

  const pause = () => {
    void upload.current?.abort();
    setPhase({ kind: "uploading", paused: true });
  };
  const resume = () => {
    upload.current?.start();
    setPhase({ kind: "uploading", paused: false });
  };
  const cancel = async () => {
    await upload.current?.abort(true).catch(() => {});
    setPhase({ kind: "cancelled" });
    setProgress({ done: 0, total: 0, speed: null });
  };

  const busy = phase.kind === "uploading";
  const shaError =
    sha256 && !/^[0-9a-fA-F]{64}$/.test(sha256.trim()) ? "A sha256 is 64 hexadecimal characters." : undefined;

  return (
    <div className="space-y-4">
      <div
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          if (!busy) prepare(event.dataTransfer.files[0] ?? null);
        }}
        className={`rounded-lg border-2 border-dashed p-6 text-center transition-colors ${dragging ? "border-accent bg-accent-soft" : "border-line-strong"}`}
      >
        <p className="text-sm text-fg">Drop a disk image here (RAW, QCOW2, VMDK, VHD/VHDX, VDI, ISO), or</p>
        <label
          htmlFor={ids.file}
          className="mt-2 inline-block cursor-pointer text-sm font-medium text-accent-strong underline"
        >
          choose a file
        </label>
        <input
          id={ids.file}
          type="file"
          className="sr-only"
          aria-label="Disk image file"
          disabled={busy}
          onChange={(event) => prepare(event.target.files?.[0] ?? null)}
        />
        {file ? (
          <p className="mt-2 text-sm text-muted">
            <span className="font-medium text-fg">{file.name}</span> · {formatBytes(file.size)}
          </p>
        ) : null}
      </div>

      {previous ? (
        <p role="status" className="rounded-md border border-line bg-raised p-3 text-sm">
          You started uploading this file before. Resume continues from the last byte the server has.
        </p>
      ) : null}

      <div className="grid gap-3 sm:grid-cols-3">
        <Field id={ids.version} label="Version">
          <Input
            {...describedBy(ids.version, {})}
            value={version}
            onChange={(event) => setVersion(event.target.value)}
            disabled={busy || !!previous}
          />
        </Field>
        <ClaimedFormatField
          id={ids.format}
          value={format}
          onChange={(event) => setFormat(event.target.value)}
          disabled={busy || !!previous}
        />
        <Field id={ids.sha} label="Expected sha256 (optional)" error={shaError}>
          <Input
            {...describedBy(ids.sha, { error: shaError })}
            value={sha256}
            onChange={(event) => setSha256(event.target.value)}
            disabled={busy || !!previous}
            className="font-mono"
            spellCheck={false}
          />
        </Field>
      </div>

      {phase.kind === "uploading" || progress.done > 0 ? (
        <ProgressBar
          label={`Uploading ${file?.name ?? "file"}`}
          done={progress.done}
          total={progress.total || file?.size || null}
          bytesPerSecond={phase.kind === "uploading" && !phase.paused ? progress.speed : null}
        />
      ) : null}

      <div className="flex flex-wrap items-center gap-2">
        {phase.kind !== "uploading" ? (
          <Button variant="primary" disabled={!file || !version.trim() || !!shaError} onClick={() => start(previous)}>
            {previous ? "Resume upload" : "Start upload"}
          </Button>
        ) : phase.paused ? (
          <Button variant="primary" onClick={resume}>
            Resume
          </Button>
        ) : (
          <Button onClick={pause}>Pause</Button>
        )}
        {phase.kind === "uploading" ? (
          <Button variant="danger" onClick={() => void cancel()}>
            Cancel upload
          </Button>
        ) : null}
      </div>

      <div aria-live="polite">
        {phase.kind === "done" ? (
          <p role="status" className="text-sm text-success">
            Upload complete: the file passed inspection and is stored as version {version} of{" "}
            <Link href={`/images/${imageSlug}`} className="font-medium underline">
              {imageName}
            </Link>
            .
          </p>
        ) : null}
        {phase.kind === "cancelled" ? (
          <p role="status" className="text-sm text-muted">
            Upload cancelled; nothing was kept.
          </p>
        ) : null}
      </div>
      {phase.kind === "failed" ? (
        <p role="alert" className="rounded-md border border-danger bg-danger-soft p-3 text-sm text-danger">
          {phase.message}
        </p>
      ) : null}
    </div>
  );
}
