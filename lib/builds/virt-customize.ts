// A recipe's steps become one virt-customize invocation (one appliance launch), in order. The
// arguments are an argv array run without a shell, so step content never needs quoting; scripts
// and uploaded files are passed as files the engine writes into the build's work directory.
import type { Step } from "@/lib/recipes/steps";
import { stepsNeedNetwork } from "@/lib/recipes/steps";

export interface HostFiles {
  /** Writes a script for a step and returns its host path. */
  script(stepIndex: number, content: string): string;
  /** The host path of an uploaded file's blob. */
  blob(sha256: string): string;
}

/** Lines virt-customize prints that must not reach the stored build log. */
export const secretLinePattern = /^(.*Setting random password of root to ).*$/;

export function redactLogLine(line: string): string {
  return line.replace(secretLinePattern, "$1[redacted]");
}

function stepArgs(step: Step, index: number, files: HostFiles): string[] {
  switch (step.type) {
    case "install":
      return ["--install", step.packages.join(",")];
    case "uninstall":
      return ["--uninstall", step.packages.join(",")];
    case "update":
      return ["--update"];
    case "run":
      return ["--run", files.script(index, step.script)];
    case "write":
      return [
        "--write",
        `${step.path}:${step.content}`,
        ...(step.mode ? ["--chmod", `${step.mode}:${step.path}`] : []),
      ];
    case "upload":
      return [
        "--upload",
        `${files.blob(step.blobSha256)}:${step.path}`,
        ...(step.mode ? ["--chmod", `${step.mode}:${step.path}`] : []),
      ];
    case "mkdir":
      return ["--mkdir", step.path];
    case "delete":
      return ["--delete", step.path];
    case "ssh-key":
      return ["--ssh-inject", `${step.user}:string:${step.key}`];
    case "hostname":
      return ["--hostname", step.hostname];
    case "timezone":
      return ["--timezone", step.timezone];
    case "root-password":
      return ["--root-password", step.policy === "locked" ? "locked:disabled" : step.policy];
    case "firstboot":
      return ["--firstboot", files.script(index, step.script)];
    case "selinux-relabel":
      return ["--selinux-relabel"];
  }
}

export interface VirtCustomizeCommand {
  args: string[];
  /** The index in `args` where each step's arguments begin, for per-step progress. */
  stepStarts: number[];
}

/** The whole command for an overlay disk we created ourselves (always qcow2, always named). */
export function virtCustomizeArgs({
  disk,
  steps,
  files,
}: {
  disk: string;
  steps: Step[];
  files: HostFiles;
}): VirtCustomizeCommand {
  const args = ["--format", "qcow2", "-a", disk, ...(stepsNeedNetwork(steps) ? [] : ["--no-network"])];
  const stepStarts: number[] = [];
  steps.forEach((step, index) => {
    stepStarts.push(args.length);
    args.push(...stepArgs(step, index, files));
  });
  return { args, stepStarts };
}

/** POSIX shell quoting, for showing people the exact command (never for running it). */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command line a build of these steps runs, with placeholder host paths. */
export function previewCommand(steps: Step[]): string {
  const { args } = virtCustomizeArgs({
    disk: "<work>/overlay.qcow2",
    steps,
    files: { script: (index) => `<work>/step-${index + 1}.sh`, blob: (sha256) => `<blobs>/${sha256.slice(0, 12)}` },
  });
  return ["virt-customize", ...args].map(shellQuote).join(" ");
}
