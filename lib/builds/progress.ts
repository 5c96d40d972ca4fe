// virt-customize prints one "[  12.3] Doing: thing" line per operation. Matching those markers to
// the recipe's steps gives per-step progress without a second appliance launch or guessing by time.
// Passwords and SELinux relabelling run at the end whatever their place in the recipe, so markers
// are matched by kind to the first step of that kind not yet started, not by position.
import { stepLabels, type Step, type StepType } from "@/lib/recipes/steps";

const markerPattern = /^\[\s*\d+\.\d+\]\s+(.*)$/;

const markerOf: Record<StepType, RegExp> = {
  install: /^Installing packages:/,
  uninstall: /^Uninstalling packages:/,
  update: /^Updating packages/,
  run: /^Running:/,
  write: /^Writing:/,
  upload: /^Uploading:/,
  mkdir: /^Making directory:/,
  delete: /^Deleting:/,
  "ssh-key": /^SSH key inject:/,
  hostname: /^Setting the hostname:/,
  timezone: /^Setting the timezone:/,
  "root-password": /^Setting passwords/,
  firstboot: /^Installing firstboot script:/,
  "selinux-relabel": /^SELinux relabelling/,
};

export type StepState = "pending" | "running" | "done" | "failed";

export interface StepProgress {
  label: string;
  status: StepState;
}

export function stepSummary(step: Step): string {
  switch (step.type) {
    case "install":
    case "uninstall":
      return `${stepLabels[step.type]}: ${step.packages.join(", ")}`;
    case "write":
    case "upload":
    case "mkdir":
    case "delete":
      return `${stepLabels[step.type]}: ${step.path}`;
    case "ssh-key":
      return `${stepLabels[step.type]} for ${step.user}`;
    case "hostname":
      return `${stepLabels[step.type]}: ${step.hostname}`;
    case "timezone":
      return `${stepLabels[step.type]}: ${step.timezone}`;
    case "root-password":
      return `${stepLabels[step.type]}: ${step.policy}`;
    default:
      return stepLabels[step.type];
  }
}

/** Tracks which step is running from the marker lines of one virt-customize run. */
export class StepTracker {
  readonly progress: StepProgress[];
  private current: number | null = null;

  constructor(private readonly steps: Step[]) {
    this.progress = steps.map((step) => ({ label: stepSummary(step), status: "pending" }));
  }

  /** Feeds one output line; returns true when the progress changed. */
  line(text: string): boolean {
    const marker = markerPattern.exec(text)?.[1];
    if (!marker) return false;
    if (/^Finishing off/.test(marker)) return this.finishRunning();
    const index = this.steps.findIndex(
      (step, position) => this.progress[position]!.status === "pending" && markerOf[step.type].test(marker),
    );
    if (index < 0) return false;
    this.finishRunning();
    this.progress[index]!.status = "running";
    this.current = index;
    return true;
  }

  private finishRunning(): boolean {
    if (this.current === null) return false;
    this.progress[this.current]!.status = "done";
    this.current = null;
    return true;
  }

  /** The step that was running when the command failed, if any. */
  fail(): number | null {
    const failed = this.current;
    if (failed !== null) this.progress[failed]!.status = "failed";
    this.current = null;
    return failed;
  }

  complete(): void {
    for (const step of this.progress) step.status = "done";
    this.current = null;
  }
}
