// The heartbeat and stop rules every content job shares: a row that stops being alive cancels the
// run, the worker's signal stops it with its own reason, the first reason wins, and end() stops
// the heartbeat.
import { describe, expect, it } from "vitest";
import { JobStopped, startJobRun } from "./job-run";
import { Cancelled, superviseRun } from "./supervised-run";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("superviseRun", () => {
  it("cancels the run once the heartbeat says the row is no longer alive, and stops beating at end()", async () => {
    let beats = 0;
    const run = superviseRun({
      heartbeat: async () => ++beats < 3,
      shutdownMessage: "stopped",
      heartbeatMs: 10,
    });
    expect(run.signal.aborted).toBe(false);
    expect(() => run.throwIfStopped()).not.toThrow();
    while (!run.signal.aborted) await tick(5);
    expect(run.stopReason).toBeInstanceOf(Cancelled);
    expect(run.signal.reason).toBe(run.stopReason);
    expect(() => run.throwIfStopped()).toThrow(Cancelled);
    // A failure of the run's own after the cancel still reads as the cancel.
    expect(run.outcomeOf(new Error("qemu said no"))).toBe(run.stopReason);
    run.end();
    const after = beats;
    await tick(50);
    expect(beats).toBe(after);
  });

  it("stops with the worker's JobStopped (a time limit), and the first reason wins", async () => {
    const job = startJobRun("content.diff", { limitMs: 20 });
    const run = superviseRun({ signal: job.signal, heartbeat: async () => false, shutdownMessage: "stopped" });
    while (!run.signal.aborted) await tick(5);
    expect(run.stopReason).toBeInstanceOf(JobStopped);
    expect((run.stopReason as JobStopped).why).toBe("time-limit");
    await tick(1100); // the heartbeat's "not alive" comes too late to change the reason
    expect(run.stopReason).toBeInstanceOf(JobStopped);
    run.end();
    job.finish();
  });

  it("stops at once with the shutdown message when the worker's signal aborted without a JobStopped", () => {
    const worker = new AbortController();
    worker.abort();
    const run = superviseRun({ signal: worker.signal, heartbeat: async () => true, shutdownMessage: "Test it again." });
    expect(run.stopReason).toBeInstanceOf(JobStopped);
    expect(run.stopReason?.message).toBe("Test it again.");
    // With no stop, an error is the run's own failure.
    const quiet = superviseRun({ heartbeat: async () => true, shutdownMessage: "x" });
    expect(quiet.outcomeOf(new Error("boom"))).toBeNull();
    expect(quiet.outcomeOf(new Cancelled())).toBeInstanceOf(Cancelled);
    run.end();
    quiet.end();
  });
});
