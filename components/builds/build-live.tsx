"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { BuildStatusBadge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cx } from "@/components/ui/cx";
import { useServerAction } from "@/components/ui/use-server-action";
import type { BuildStatus } from "@/db/enums";
import { cancelBuildServerAction, retryBuildServerAction } from "@/lib/actions/recipes";
import { accelerationLabels, formatDuration, type Acceleration } from "@/lib/format";

interface BuildState {
  status: BuildStatus;
  steps: { label: string; status: "pending" | "running" | "done" | "failed" }[];
  failureReason: string | null;
  cancelRequested: boolean;
  outputImage: string | null;
  outputVersion: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  acceleration: Acceleration | null;
  accelerationReason: string | null;
  timeLimitSeconds: number | null;
}

interface LogLine {
  id: number;
  at: string;
  stream: string;
  line: string;
}

const stepMarks = { pending: "○", running: "◐", done: "●", failed: "✕" } as const;
const active = (status: BuildStatus) => status === "queued" || status === "running";

/** State and log of one build, streamed from the server as they happen (server-sent events). */
export function BuildLive({
  buildId,
  initial,
  initialLogs,
  canCancel,
  canRetry,
  fingerprint,
  configuredTimeLimitSeconds,
}: {
  buildId: string;
  initial: BuildState;
  initialLogs: LogLine[];
  canCancel: boolean;
  canRetry: boolean;
  fingerprint: string;
  /** The limit a worker would apply now; a claimed build shows the one its worker recorded. */
  configuredTimeLimitSeconds: number;
}) {
  const router = useRouter();
  const [state, setState] = useState(initial);
  const [logs, setLogs] = useState(initialLogs);
  const [follow, setFollow] = useState(true);
  const [connection, setConnection] = useState<"live" | "reconnecting" | "ended">(
    active(initial.status) ? "live" : "ended",
  );
  const { pending, run, outcome } = useServerAction();
  const logRef = useRef<HTMLDivElement>(null);
  const lastId = useRef(initialLogs.at(-1)?.id ?? 0);

  useEffect(() => {
    if (!active(initial.status)) return;
    const source = new EventSource(`/api/builds/${buildId}/events?after=${lastId.current}`);
    source.addEventListener("log", (event) => {
      const lines = JSON.parse((event as MessageEvent<string>).data) as LogLine[];
      const fresh = lines.filter((line) => line.id > lastId.current);
      if (!fresh.length) return;
      lastId.current = fresh.at(-1)!.id;
      setLogs((current) => [...current, ...fresh].slice(-20_000));
    });
    source.addEventListener("state", (event) =>
      setState(JSON.parse((event as MessageEvent<string>).data) as BuildState),
    );
    source.addEventListener("end", () => {
      source.close();
      setConnection("ended");
      router.refresh();
    });
    source.onopen = () => setConnection("live");
    source.onerror = () => setConnection((current) => (current === "ended" ? current : "reconnecting"));
    return () => source.close();
  }, [buildId, initial.status, router]);

  useEffect(() => {
    if (follow && logRef.current) logRef.current.scrollTop = logRef.current.scrollHeight;
  }, [logs, follow]);

  const done = state.steps.filter((step) => step.status === "done").length;
  const percent =
    state.status === "succeeded" ? 100 : state.steps.length ? Math.round((done / state.steps.length) * 100) : 0;
  const cancel = () =>
    run(() => cancelBuildServerAction({ buildId }), {
      refresh: false,
      onSuccess: (data) => setState((current) => ({ ...current, cancelRequested: true, status: data.status })),
    });
  const retry = () =>
    run(() => retryBuildServerAction({ buildId }), {
      refresh: false,
      onSuccess: (data) => {
        if (data.queued) router.push(`/builds/${data.buildId}`);
      },
    });

  return (
    <div className="grid gap-6 lg:grid-cols-[18rem_1fr]">
      <aside className="space-y-4">
        <div className="space-y-2 rounded-lg border border-line bg-surface p-4">
          <div className="flex items-center justify-between gap-2">
            <span role="status" aria-label={`Build status: ${state.status}`}>
              <BuildStatusBadge status={state.status} />
            </span>
            <span className="text-xs text-muted">
              {connection === "live" ? "Live" : connection === "reconnecting" ? "Reconnecting…" : ""}
            </span>
          </div>
          <div
            role="progressbar"
            aria-label="Steps done"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            className="h-1.5 overflow-hidden rounded-full bg-raised"
          >
            <div
              className={cx("h-full bg-accent transition-all", state.status === "failed" && "bg-danger")}
              style={{ width: `${percent}%` }}
            />
          </div>
          <ol aria-label="Steps" className="space-y-1 text-sm">
            {state.steps.map((step, index) => (
              <li
                key={index}
                className={cx(
                  "flex gap-2",
                  step.status === "pending" && "text-muted",
                  step.status === "failed" && "text-danger",
                )}
              >
                <span aria-hidden="true">{stepMarks[step.status]}</span>
                <span>
                  {index + 1}. {step.label}
                  <span className="sr-only"> ({step.status})</span>
                </span>
              </li>
            ))}
          </ol>
          {state.status === "succeeded" && state.outputImage && state.outputVersion ? (
            <p className="text-sm">
              Output:{" "}
              <Link href={`/images/${state.outputImage}/versions/${encodeURIComponent(state.outputVersion)}`}>
                {state.outputImage} {state.outputVersion}
              </Link>
              , pending review.
            </p>
          ) : null}
          {state.failureReason && state.status !== "succeeded" ? (
            <div role="alert" className="whitespace-pre-wrap rounded-md bg-danger-soft p-2 text-sm text-danger">
              {state.failureReason}
            </div>
          ) : null}
          <div className="flex gap-2 pt-1">
            {canCancel && active(state.status) ? (
              <Button variant="danger" size="sm" disabled={pending || state.cancelRequested} onClick={cancel}>
                {state.cancelRequested ? "Cancelling…" : "Cancel build"}
              </Button>
            ) : null}
            {canRetry && !active(state.status) ? (
              <Button size="sm" disabled={pending} onClick={retry}>
                Retry
              </Button>
            ) : null}
          </div>
          <ActionMessage outcome={outcome} />
        </div>
        <div role="group" aria-label="How this build runs">
          <dl className="space-y-2 text-xs">
            <div>
              <dt className="text-muted">Acceleration</dt>
              <dd>
                {state.acceleration ? (
                  <>
                    {accelerationLabels[state.acceleration]}
                    {state.accelerationReason ? (
                      <span className="block text-muted">{state.accelerationReason}</span>
                    ) : null}
                  </>
                ) : (
                  <span className="text-muted">decided by the worker that runs it</span>
                )}
              </dd>
            </div>
            <div>
              <dt className="text-muted">Time limit</dt>
              <dd>
                {formatDuration((state.timeLimitSeconds ?? configuredTimeLimitSeconds) * 1000)} (HANGAR_BUILD_TIMEOUT)
              </dd>
            </div>
          </dl>
        </div>
        <p className="break-all text-xs text-muted">Fingerprint {fingerprint}</p>
      </aside>
      <section aria-labelledby="log-heading" className="min-w-0 space-y-2">
        <div className="flex items-center justify-between">
          <h2 id="log-heading" className="text-sm font-semibold">
            Log
          </h2>
          <label className="flex items-center gap-1.5 text-xs text-muted">
            <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.target.checked)} /> Follow
          </label>
        </div>
        <div
          ref={logRef}
          role="log"
          aria-label="Build log"
          tabIndex={0}
          className="h-[32rem] overflow-auto rounded-lg border border-line bg-zinc-950 p-3 font-mono text-xs leading-relaxed text-zinc-100"
        >
          {logs.length === 0 ? (
            <p className="text-zinc-300">{state.status === "queued" ? "Waiting for a worker…" : "No output."}</p>
          ) : null}
          {logs.map((line) => (
            <div
              key={line.id}
              className={cx(
                "whitespace-pre-wrap break-all",
                line.stream === "err" && "text-amber-200",
                line.stream === "hangar" && "text-sky-300",
              )}
            >
              {line.line}
            </div>
          ))}
        </div>
      </section>
    </div>
  );
}
