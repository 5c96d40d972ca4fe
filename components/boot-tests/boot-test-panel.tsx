"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { ActionMessage } from "@/components/ui/action-message";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { useServerAction } from "@/components/ui/use-server-action";
import { cancelBootTestServerAction, requestBootTestServerAction } from "@/lib/actions/boot-tests";
import { accelerationLabels, formatDuration, type Acceleration } from "@/lib/format";

/** A boot test as the panel shows it (what getBootTest returns, dates as text). */
export interface BootTestView {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  result: "passed" | "failed" | "timed_out" | "not_bootable" | null;
  failureReason: string | null;
  successPattern: string;
  timeoutSeconds: number;
  acceleration: Acceleration | null;
  durationMs: number | null;
  consoleBytes: number;
  trigger: string;
  cancelRequested: boolean;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface ConsoleLine {
  id: number;
  line: string;
}

const POLL_MS = 1000;
const MAX_LINES = 20_000;
const active = (test: BootTestView | null) => test?.status === "queued" || test?.status === "running";

function verdict(test: BootTestView): { tone: BadgeTone; label: string } {
  if (test.status === "queued") return { tone: "neutral", label: "Queued" };
  if (test.status === "running") return { tone: "accent", label: test.cancelRequested ? "Cancelling" : "Booting" };
  if (test.status === "cancelled") return { tone: "neutral", label: "Cancelled" };
  if (test.status === "failed") return { tone: "danger", label: "Could not run" };
  switch (test.result) {
    case "passed":
      return { tone: "success", label: "Passed" };
    case "timed_out":
      return { tone: "warning", label: "Timed out" };
    case "not_bootable":
      return { tone: "danger", label: "Not bootable" };
    default:
      return { tone: "danger", label: "Failed" };
  }
}

function successWords(pattern: string): string {
  return pattern === "<login prompt>" ? "a login prompt" : `“${pattern}”`;
}

/**
 * A version's boot test: the latest result, its duration and acceleration, "Test boot" and
 * "Cancel", and the serial console, live while it runs. The console is the guest's output and is
 * shown as text only.
 */
export function BootTestPanel({
  versionId,
  initial,
  initialLines,
  canRequest,
  refusal,
  required,
}: {
  versionId: string;
  initial: BootTestView | null;
  initialLines: ConsoleLine[];
  /** The viewer may start and cancel boot tests of this version. */
  canRequest: boolean;
  /** Why a boot test can't be started now (shown instead of the button), if so. */
  refusal?: string | null;
  /** The image requires a passing boot test before approval. */
  required: boolean;
}) {
  const router = useRouter();
  const [test, setTest] = useState(initial);
  const [lines, setLines] = useState(initialLines);
  const lastId = useRef(initialLines.at(-1)?.id ?? 0);
  const consoleRef = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);
  const { pending, run, outcome } = useServerAction();
  const testId = test?.id ?? null;
  const live = active(test);

  useEffect(() => {
    if (!testId || !live) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const response = await fetch(`/api/boot-tests/${testId}/log?after=${lastId.current}`, { cache: "no-store" });
        if (response.ok) {
          const body = (await response.json()) as { test: BootTestView; lines: ConsoleLine[]; more: boolean };
          if (stopped) return;
          const fresh = body.lines.filter((line) => line.id > lastId.current);
          if (fresh.length) {
            lastId.current = fresh.at(-1)!.id;
            setLines((current) => [...current, ...fresh].slice(-MAX_LINES));
          }
          setTest(body.test);
          if (!active(body.test) && !body.more) {
            router.refresh();
            return;
          }
          if (body.more) return void poll();
        }
      } catch {
        // the next poll tries again
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    timer = setTimeout(() => void poll(), 300);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [testId, live, router]);

  useEffect(() => {
    if (follow && consoleRef.current) consoleRef.current.scrollTop = consoleRef.current.scrollHeight;
  }, [lines, follow]);

  const start = () =>
    run(() => requestBootTestServerAction({ versionId }), {
      refresh: false,
      success: (data) => (data.created ? "Boot test queued." : "A boot test of this version is already running."),
      onSuccess: (data) => {
        if (data.bootTestId === testId) return;
        lastId.current = 0;
        setLines([]);
        setTest({
          id: data.bootTestId,
          status: "queued",
          result: null,
          failureReason: null,
          successPattern: test?.successPattern ?? "<login prompt>",
          timeoutSeconds: test?.timeoutSeconds ?? 0,
          acceleration: null,
          durationMs: null,
          consoleBytes: 0,
          trigger: "manual",
          cancelRequested: false,
          queuedAt: new Date().toISOString(),
          startedAt: null,
          finishedAt: null,
        });
      },
    });
  const cancel = () =>
    testId &&
    run(() => cancelBootTestServerAction({ bootTestId: testId }), {
      refresh: false,
      success: (data) => (data.status === "cancelled" ? "Boot test cancelled." : "Stopping the boot test…"),
      onSuccess: (data) =>
        setTest((current) => (current ? { ...current, status: data.status, cancelRequested: true } : current)),
    });

  const shown = test ? verdict(test) : null;
  return (
    <section aria-labelledby="boot-test-heading" className="space-y-3 rounded-lg border border-line bg-surface p-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="boot-test-heading" className="text-base font-semibold">
          Boot test
        </h2>
        <div className="flex items-center gap-2">
          {canRequest && live ? (
            <Button variant="danger" size="sm" disabled={pending || test?.cancelRequested} onClick={cancel}>
              {test?.cancelRequested ? "Cancelling…" : "Cancel"}
            </Button>
          ) : null}
          {canRequest && !live && !refusal ? (
            <Button size="sm" disabled={pending} onClick={start}>
              Test boot
            </Button>
          ) : null}
        </div>
      </div>
      {required ? (
        <p className="text-xs text-muted">This image requires a passing boot test before a version is approved.</p>
      ) : null}
      {canRequest && refusal && !live ? <p className="text-sm text-muted">{refusal}</p> : null}
      {test && shown ? (
        <dl className="grid grid-cols-[8rem_minmax(0,1fr)] gap-x-3 gap-y-1 text-sm">
          <dt className="text-muted">Result</dt>
          <dd role="status" aria-label={`Boot test: ${shown.label}`}>
            <Badge tone={shown.tone}>{shown.label}</Badge>
          </dd>
          <dt className="text-muted">Success when</dt>
          <dd>
            {successWords(test.successPattern)} appears on the serial console
            {test.timeoutSeconds ? ` within ${formatDuration(test.timeoutSeconds * 1000)}` : ""}
          </dd>
          {test.durationMs !== null && !live ? (
            <>
              <dt className="text-muted">Duration</dt>
              <dd>{formatDuration(test.durationMs)}</dd>
            </>
          ) : null}
          {test.acceleration ? (
            <>
              <dt className="text-muted">Acceleration</dt>
              <dd>{accelerationLabels[test.acceleration]}</dd>
            </>
          ) : null}
          <dt className="text-muted">Started by</dt>
          <dd>{test.trigger === "manual" ? "a person" : `an automatic test after the ${test.trigger}`}</dd>
        </dl>
      ) : (
        <p className="text-sm text-muted">This version has not been boot-tested yet.</p>
      )}
      {test?.failureReason && test.result !== "passed" ? (
        <p role="alert" className="whitespace-pre-wrap rounded-md bg-danger-soft p-2 text-sm text-danger">
          {test.failureReason}
        </p>
      ) : null}
      {test && (lines.length || live) ? (
        <div className="space-y-1">
          <div className="flex items-center justify-between text-xs text-muted">
            <span>Serial console{live ? " (live)" : ""}</span>
            <label className="flex items-center gap-1">
              <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.target.checked)} />
              Follow
            </label>
          </div>
          <pre
            ref={consoleRef}
            aria-label="Serial console"
            tabIndex={0}
            className="max-h-96 overflow-auto rounded-md bg-raised p-2 font-mono text-xs leading-relaxed whitespace-pre-wrap"
          >
            {lines.length ? lines.map((line) => line.line).join("\n") : "Waiting for the guest…"}
          </pre>
        </div>
      ) : null}
      <ActionMessage outcome={outcome} />
    </section>
  );
}
