// One running job's stop signal. A job ends early for one of two reasons, and the person looking at
// it must be told which: its wall-clock limit passed (HANGAR_BUILD_TIMEOUT for builds,
// HANGAR_JOB_TIMEOUT for the rest), or Hangar was stopped while it ran. Either way the signal
// aborts, every process group the job started is killed through it, and the job's own clean-up
// keeps nothing half-written. The job's failure reason is the JobStopped message.
import { env } from "@/lib/env";
import { formatDuration } from "@/lib/format";
import type { JobName } from "./queue";

interface JobKind {
  /** What a person calls one of these. */
  noun: string;
  /** What to do after it was stopped. */
  again: string;
  limitVariable: "HANGAR_BUILD_TIMEOUT" | "HANGAR_JOB_TIMEOUT";
}

const kinds: Partial<Record<JobName, JobKind>> = {
  "image.build": { noun: "build", again: "Retry the build", limitVariable: "HANGAR_BUILD_TIMEOUT" },
  "image.convert": {
    noun: "conversion",
    again: "Request the download in this format again",
    limitVariable: "HANGAR_JOB_TIMEOUT",
  },
  "image.clone": { noun: "clone", again: "Request the clone again", limitVariable: "HANGAR_JOB_TIMEOUT" },
  "image.import-url": { noun: "import", again: "Start the import again", limitVariable: "HANGAR_JOB_TIMEOUT" },
  "content.inspect": { noun: "content inspection", again: "Inspect it again", limitVariable: "HANGAR_JOB_TIMEOUT" },
  "content.diff": { noun: "file comparison", again: "Compare the files again", limitVariable: "HANGAR_JOB_TIMEOUT" },
  "image.boot-test": { noun: "boot test", again: "Test the boot again", limitVariable: "HANGAR_JOB_TIMEOUT" },
  "blob.checksums": {
    noun: "checksum computation",
    again: "Hangar queues it again at its next start",
    limitVariable: "HANGAR_JOB_TIMEOUT",
  },
  "feed.artifacts": {
    noun: "LXD/Incus metadata",
    again: "The next simplestreams listing queues it again",
    limitVariable: "HANGAR_JOB_TIMEOUT",
  },
  "demo.debian-image": {
    noun: "demo image",
    again: "Restart Hangar with an empty database to seed it again",
    limitVariable: "HANGAR_JOB_TIMEOUT",
  },
};

export class JobStopped extends Error {
  constructor(
    readonly why: "time-limit" | "shutdown",
    message: string,
  ) {
    super(message);
  }
}

/** Why a job's signal aborted, when it was a JobStopped (a time limit or a shutdown). */
export function jobStopped(signal: AbortSignal | undefined): JobStopped | null {
  return signal?.aborted && signal.reason instanceof JobStopped ? signal.reason : null;
}

/** The wall-clock limit of a kind of job in milliseconds, or null for jobs without one. */
export function jobTimeLimit(name: JobName): number | null {
  const kind = kinds[name];
  return kind ? env()[kind.limitVariable] : null;
}

export interface JobRun {
  signal: AbortSignal;
  /** Hangar is stopping: end the job now (its clean-up still runs). */
  shutdown(): void;
  /** The job returned: its clock stops. */
  finish(): void;
}

/** Starts a job's clock; `limitMs` (default: its kind's configured limit) ends it with the reason. */
export function startJobRun(name: JobName, { limitMs = jobTimeLimit(name) }: { limitMs?: number | null } = {}): JobRun {
  const controller = new AbortController();
  const kind = kinds[name] ?? { noun: "job", again: "Start it again", limitVariable: "HANGAR_JOB_TIMEOUT" };
  const timer =
    limitMs === null
      ? undefined
      : setTimeout(() => {
          const message = `Stopped after ${formatDuration(limitMs)}, the ${kind.noun} time limit (${kind.limitVariable}); nothing was kept. ${kind.again}, or ask an operator to raise ${kind.limitVariable} if it needs longer.`;
          controller.abort(new JobStopped("time-limit", message));
        }, limitMs);
  return {
    signal: controller.signal,
    shutdown() {
      controller.abort(
        new JobStopped("shutdown", `Hangar was stopped while this ${kind.noun} ran; nothing was kept. ${kind.again}.`),
      );
    },
    finish() {
      clearTimeout(timer);
    },
  };
}
