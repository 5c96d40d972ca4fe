// The editor keeps each step as the strings a person types; these convert to and from the typed
// steps the schema validates and the build runs.
import { stepSchema, type Step, type StepType } from "@/lib/recipes/steps";

export type StepForm = { type: StepType } & Record<string, string>;

export function emptyStep(type: StepType): StepForm {
  switch (type) {
    case "install":
    case "uninstall":
      return { type, packages: "" };
    case "run":
    case "firstboot":
      return { type, script: "" };
    case "write":
      return { type, path: "", content: "", mode: "" };
    case "upload":
      return { type, path: "", blobSha256: "", filename: "", mode: "" };
    case "mkdir":
    case "delete":
      return { type, path: "" };
    case "ssh-key":
      return { type, user: "root", key: "" };
    case "hostname":
      return { type, hostname: "" };
    case "timezone":
      return { type, timezone: "UTC" };
    case "root-password":
      return { type, policy: "locked" };
    default:
      return { type };
  }
}

export function toStep(form: StepForm): unknown {
  const { type, ...fields } = form;
  const out: Record<string, unknown> = { type };
  for (const [key, value] of Object.entries(fields)) {
    if (key === "packages") out.packages = value.split(/[\s,]+/).filter(Boolean);
    else if ((key === "mode" || key === "filename") && value === "") continue;
    else out[key] = value;
  }
  return out;
}

export function fromStep(step: Step): StepForm {
  const form: StepForm = { ...emptyStep(step.type) };
  for (const [key, value] of Object.entries(step)) {
    if (key === "type") continue;
    form[key] = Array.isArray(value) ? value.join(" ") : String(value ?? "");
  }
  return form;
}

/** The first problem with each field of a step, as the schema words it. */
export function stepErrors(form: StepForm): Record<string, string> {
  const parsed = stepSchema.safeParse(toStep(form));
  if (parsed.success) return {};
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? "_");
    errors[field] ??= issue.message;
  }
  return errors;
}
