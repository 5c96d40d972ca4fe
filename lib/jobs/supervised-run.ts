// What every long job that owns a row does while it runs (the content scan, the file diff and the
// boot test; lib/content): a heartbeat that tells other workers the row is alive and is where a
// cancel request is seen, and one abort signal for the job's process groups that fires on that
// cancel or when the worker's own signal stops the job (its time limit, Hangar stopping). The first
// reason wins: the job's clean-up reads it to store "cancelled" or the JobStopped message.
import { JobStopped, jobStopped } from "./job-run";

/** The job's row asked to be cancelled (seen at the heartbeat), or is no longer this worker's. */
export class Cancelled extends Error {}

export interface SupervisedRun {
  /** Aborts with the stop reason: a Cancelled, or the worker's JobStopped. */
  signal: AbortSignal;
  /** Why the run was stopped, or null while it was not. */
  readonly stopReason: Cancelled | JobStopped | null;
  /** Throws the stop reason when the run was stopped. */
  throwIfStopped(): void;
  /** What ended the run, given the error it ended with: a cancel or a stop, or null for a failure of its own. */
  outcomeOf(error: unknown): Cancelled | JobStopped | null;
  /** Stops the heartbeat and lets go of the worker's signal; call it in `finally`. */
  end(): void;
}

/**
 * Starts a run's heartbeat (`heartbeat` resolves false once the row is cancelled or no longer
 * running) and ties it to the worker's `signal`. `shutdownMessage` is the failure reason when the
 * worker's signal aborts without a JobStopped of its own.
 */
export function superviseRun({
  signal,
  heartbeat,
  shutdownMessage,
  heartbeatMs = 1000,
}: {
  signal?: AbortSignal;
  heartbeat: () => Promise<boolean>;
  shutdownMessage: string;
  heartbeatMs?: number;
}): SupervisedRun {
  const controller = new AbortController();
  let stopReason: Cancelled | JobStopped | null = null;
  const stop = (reason: Cancelled | JobStopped) => {
    stopReason ??= reason;
    controller.abort(reason);
  };
  const onJobStop = () => stop(jobStopped(signal) ?? new JobStopped("shutdown", shutdownMessage));
  signal?.addEventListener("abort", onJobStop, { once: true });
  if (signal?.aborted) onJobStop();
  const timer = setInterval(() => {
    void heartbeat()
      .then((alive) => {
        if (!alive) stop(new Cancelled());
      })
      .catch(() => {});
  }, heartbeatMs);
  return {
    signal: controller.signal,
    get stopReason() {
      return stopReason;
    },
    throwIfStopped() {
      if (stopReason) throw stopReason;
    },
    outcomeOf(error) {
      return error instanceof Cancelled || error instanceof JobStopped ? error : stopReason;
    },
    end() {
      clearInterval(timer);
      signal?.removeEventListener("abort", onJobStop);
    },
  };
}
