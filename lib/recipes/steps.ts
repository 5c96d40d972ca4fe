// The typed steps of a customization recipe. Each maps onto one virt-customize operation; the
// validation here is what keeps a step from smuggling in shell syntax, host paths or plaintext
// secrets, and it is shared by the step editor (as you type), YAML import and the build engine.
import { z } from "zod";
import { formatBytes } from "@/lib/format";

export const MAX_SCRIPT_BYTES = 64 * 1024;
export const MAX_WRITE_BYTES = 1024 * 1024;
export const MAX_STEPS = 100;
/** Files for "upload a file" steps; larger content belongs in an image. */
export const MAX_UPLOAD_FILE_BYTES = 16 * 1024 * 1024;

// The editor validates in the browser too, where there is no Buffer.
const encoder = new TextEncoder();
const utf8Length = (value: string) => encoder.encode(value).length;

const guestPath = z
  .string()
  .min(1, "Enter a path in the guest.")
  .max(4096, "A path is at most 4096 characters.")
  .refine((value) => value.startsWith("/"), "Use an absolute path in the guest, starting with /.")
  .refine((value) => !value.split("/").includes(".."), "A path may not contain “..”.")
  .refine((value) => !/[\0\n\r:]/.test(value), "A path may not contain “:”, line breaks or NUL bytes.");

const packageName = z
  .string()
  .trim()
  .min(1, "A package name can't be empty.")
  .max(128, "A package name is at most 128 characters.")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.+_~-]*$/,
    "A package name uses letters, digits and . + _ ~ - only (no spaces or shell characters).",
  );

const packages = z
  .array(packageName)
  .min(1, "List at least one package.")
  .max(200, "At most 200 packages in one step.");

const fileMode = z
  .string()
  .regex(/^0?[0-7]{3,4}$/, "A mode is octal, like 0644 or 0755.")
  .optional();

const script = z
  .string()
  .min(1, "The script can't be empty.")
  .refine((value) => utf8Length(value) <= MAX_SCRIPT_BYTES, `A script is at most ${MAX_SCRIPT_BYTES / 1024} KiB.`);

const timezones = new Set(Intl.supportedValuesOf("timeZone").concat("UTC"));

export const stepSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("install"), packages }).strict(),
  z.object({ type: z.literal("uninstall"), packages }).strict(),
  z.object({ type: z.literal("update") }).strict(),
  z.object({ type: z.literal("run"), script }).strict(),
  z
    .object({
      type: z.literal("write"),
      path: guestPath,
      content: z
        .string()
        .refine((value) => utf8Length(value) <= MAX_WRITE_BYTES, "Write at most 1 MiB; upload larger files instead."),
      mode: fileMode,
    })
    .strict(),
  z
    .object({
      type: z.literal("upload"),
      path: guestPath,
      blobSha256: z.string().regex(/^[0-9a-f]{64}$/, "Attach the file again: its reference is not valid."),
      filename: z.string().max(255).optional(),
      mode: fileMode,
    })
    .strict(),
  z.object({ type: z.literal("mkdir"), path: guestPath }).strict(),
  z
    .object({
      type: z.literal("delete"),
      path: guestPath.refine((value) => value.replace(/\/+$/, "") !== "", "Deleting / is not allowed."),
    })
    .strict(),
  z
    .object({
      type: z.literal("ssh-key"),
      user: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "A user name is lowercase letters, digits, _ and -, like root or deploy."),
      key: z
        .string()
        .trim()
        .regex(
          /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?$/,
          "Paste one OpenSSH public key, like “ssh-ed25519 AAAA… user@host”.",
        ),
    })
    .strict(),
  z
    .object({
      type: z.literal("hostname"),
      hostname: z
        .string()
        .max(253, "A host name is at most 253 characters.")
        .regex(
          /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/,
          "A host name uses letters, digits and -, in dot-separated parts.",
        ),
    })
    .strict(),
  z
    .object({
      type: z.literal("timezone"),
      timezone: z
        .string()
        .refine((value) => timezones.has(value), "Choose a time zone from the list, like Europe/Berlin or UTC."),
    })
    .strict(),
  // Never a plaintext password: the account is disabled, locked, or gets a random one.
  z
    .object({
      type: z.literal("root-password"),
      policy: z.enum(["disabled", "locked", "random"], {
        message: "The root password policy is disabled, locked or random.",
      }),
    })
    .strict(),
  z.object({ type: z.literal("firstboot"), script }).strict(),
  z.object({ type: z.literal("selinux-relabel") }).strict(),
]);

export type Step = z.infer<typeof stepSchema>;
export type StepType = Step["type"];

/** What each step is called in the editor, the build page and the log. */
export const stepLabels: Record<StepType, string> = {
  install: "Install packages",
  uninstall: "Uninstall packages",
  update: "Update all packages",
  run: "Run a command",
  write: "Write a file",
  upload: "Upload a file",
  mkdir: "Create a directory",
  delete: "Delete a path",
  "ssh-key": "Inject an SSH key",
  hostname: "Set the host name",
  timezone: "Set the time zone",
  "root-password": "Root password policy",
  firstboot: "First-boot script",
  "selinux-relabel": "SELinux relabel",
};

export const stepsSchema = z.array(stepSchema).max(MAX_STEPS, `A recipe has at most ${MAX_STEPS} steps.`);

/** Package steps need the guest to reach its repositories; everything else runs offline. */
export function stepsNeedNetwork(steps: Step[]): boolean {
  return steps.some((step) => step.type === "install" || step.type === "uninstall" || step.type === "update");
}

const growToPattern = /^(\d+)([MGT])$/;
const growUnits: Record<string, number> = { M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "20G" → bytes; null when absent or not a size. */
export function growToBytes(growTo: string | undefined): number | null {
  const match = growTo ? growToPattern.exec(growTo) : null;
  return match ? Number(match[1]) * growUnits[match[2]!]! : null;
}

/**
 * What is wrong with a "grow the disk to" value under the admins' bound (HANGAR_MAX_GROW_SIZE),
 * or null when it is fine. The editor shows it as you type; saving and building refuse it.
 */
export function growToProblem(growTo: string, maxBytes: number): string | null {
  const bytes = growToBytes(growTo);
  if (bytes === null) return "Grow the disk to a size like 20G (a whole number with M, G or T).";
  if (bytes > maxBytes)
    return `Grow the disk to at most ${formatBytes(maxBytes)}: that is this Hangar's limit (HANGAR_MAX_GROW_SIZE, set by an admin).`;
  return null;
}
