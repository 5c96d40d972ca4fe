// The shared stop mechanism with real process groups: a tiny limit ends the run with the reason and
// kills every process of the group, even one that ignores SIGTERM and one in the background.
import { describe, expect, it } from "vitest";
import { liveProcessesInGroup } from "@/tests/process-groups";
import { formatDuration } from "@/lib/format";
import { jobStopped, startJobRun } from "./job-run";
import { runInProcessGroup } from "./process-group";

const stubborn = ["-c", "trap '' TERM; sleep 300 & sleep 301"];

describe("startJobRun", () => {
  it("ends a job at its time limit with the reason, and no process of its group survives", async () => {
    const run = startJobRun("image.build", { limitMs: 1000 });
    const group = runInProcessGroup("sh", stubborn, { signal: run.signal });
    expect(liveProcessesInGroup(group.pid!).length).toBeGreaterThan(0);
    await group.exit;
    run.finish();
    const stopped = jobStopped(run.signal);
    expect(stopped?.why).toBe("time-limit");
    expect(stopped?.message).toBe(
      "Stopped after 1 second, the build time limit (HANGAR_BUILD_TIMEOUT); nothing was kept. Retry the build, or ask an operator to raise HANGAR_BUILD_TIMEOUT if it needs longer.",
    );
    expect(liveProcessesInGroup(group.pid!)).toEqual([]);
  });

  it("names the shared limit for conversions and clones, and says when Hangar was stopped", async () => {
    const conversion = startJobRun("image.convert", { limitMs: 1000 });
    const group = runInProcessGroup("sh", stubborn, { signal: conversion.signal });
    await group.exit;
    expect(jobStopped(conversion.signal)?.message).toMatch(
      /^Stopped after 1 second, the conversion time limit \(HANGAR_JOB_TIMEOUT\)/,
    );
    expect(liveProcessesInGroup(group.pid!)).toEqual([]);

    const clone = startJobRun("image.clone", { limitMs: 60_000 });
    clone.shutdown();
    clone.finish();
    expect(jobStopped(clone.signal)).toMatchObject({
      why: "shutdown",
      message: "Hangar was stopped while this clone ran; nothing was kept. Request the clone again.",
    });
  });

  it("leaves a job that finishes in time alone", async () => {
    const run = startJobRun("image.build", { limitMs: 200 });
    const group = runInProcessGroup("true", [], { signal: run.signal });
    expect(await group.exit).toBe(0);
    run.finish();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(run.signal.aborted).toBe(false);
  });
});

describe("formatDuration", () => {
  it("says limits the way people do", () => {
    expect(formatDuration(30 * 60_000)).toBe("30 minutes");
    expect(formatDuration(90 * 60_000)).toBe("1 hour 30 minutes");
    expect(formatDuration(1000)).toBe("1 second");
    expect(formatDuration(2 * 3600_000 + 5000)).toBe("2 hours 5 seconds");
  });
});
