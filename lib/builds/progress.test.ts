import { describe, expect, it } from "vitest";
import type { Step } from "@/lib/recipes/steps";
import { StepTracker } from "./progress";

// Lines as virt-customize 1.48 prints them (captured from real runs on the tiny guest).
const steps: Step[] = [
  { type: "root-password", policy: "random" },
  { type: "write", path: "/etc/motd", content: "hi", mode: "0600" },
  { type: "run", script: "true" },
  { type: "ssh-key", user: "root", key: "ssh-ed25519 AAAA x" },
];

describe("StepTracker", () => {
  it("follows virt-customize's markers, matching end-of-run operations such as passwords by kind", () => {
    const tracker = new StepTracker(steps);
    const seen: string[][] = [];
    for (const line of [
      "[   0.0] Examining the guest ...",
      "[  22.0] Setting a random seed",
      "virt-customize: warning: random seed could not be set for this type of guest",
      "[  22.3] Writing: /etc/motd",
      "[  22.4] Changing permissions of /etc/motd to 0600",
      "[  22.5] Running: /work/step-3.sh",
      "guest output that is not a marker",
      "[  23.3] SSH key inject: root",
      "[  24.0] Setting passwords",
      "[  26.9] Finishing off",
    ]) {
      if (tracker.line(line)) seen.push(tracker.progress.map((step) => step.status));
    }
    expect(seen).toEqual([
      ["pending", "running", "pending", "pending"],
      ["pending", "done", "running", "pending"],
      ["pending", "done", "done", "running"],
      ["running", "done", "done", "done"],
      ["done", "done", "done", "done"],
    ]);
  });

  it("marks the step that was running as failed", () => {
    const tracker = new StepTracker(steps);
    tracker.line("[  22.3] Writing: /etc/motd");
    tracker.line("[  22.5] Running: /work/step-3.sh");
    expect(tracker.fail()).toBe(2);
    expect(tracker.progress.map((step) => step.status)).toEqual(["pending", "done", "failed", "pending"]);
  });

  it("labels steps with what they do", () => {
    expect(new StepTracker(steps).progress.map((step) => step.label)).toEqual([
      "Root password policy: random",
      "Write a file: /etc/motd",
      "Run a command",
      "Inject an SSH key for root",
    ]);
  });
});
