import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { stepSchema, type Step } from "@/lib/recipes/steps";
import { previewCommand, redactLogLine, shellQuote, virtCustomizeArgs, type HostFiles } from "./virt-customize";

const run = promisify(execFile);
let dir: string;
let files: HostFiles;
const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBH5uVSaX1zjmR6c6Ff2mR1mA5hVQ4Hk3ucOm5ddCx8Z deploy@ci";

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-vc-"));
  const blob = path.join(dir, "blob");
  await writeFile(blob, "uploaded\n");
  files = {
    script: (index) => path.join(dir, `step-${index + 1}.sh`),
    blob: () => blob,
  };
});

const everyStep: Step[] = [
  { type: "install", packages: ["curl", "ca-certificates", "python3.11", "g++"] },
  { type: "uninstall", packages: ["nano"] },
  { type: "update" },
  { type: "run", script: "echo 'it''s done' > /etc/motd\n" },
  { type: "write", path: "/etc/app/config.ini", content: "a = 'b'\n$HOME `x` \"q\" ; rm -rf /\n", mode: "0640" },
  { type: "upload", path: "/opt/app/bin", blobSha256: "a".repeat(64), mode: "0755" },
  { type: "mkdir", path: "/srv/data" },
  { type: "delete", path: "/var/cache/apt" },
  { type: "ssh-key", user: "deploy", key },
  { type: "hostname", hostname: "web-01.example.internal" },
  { type: "timezone", timezone: "Europe/Berlin" },
  { type: "root-password", policy: "locked" },
  { type: "root-password", policy: "disabled" },
  { type: "root-password", policy: "random" },
  { type: "firstboot", script: "#!/bin/sh\nsystemctl enable app\n" },
  { type: "selinux-relabel" },
];

describe("step → virt-customize arguments", () => {
  it("maps every step type, in order, to its option", () => {
    const { args, stepStarts } = virtCustomizeArgs({ disk: "/work/overlay.qcow2", steps: everyStep, files });
    expect(args.slice(0, 4)).toEqual(["--format", "qcow2", "-a", "/work/overlay.qcow2"]);
    expect(args).not.toContain("--no-network");
    const options = stepStarts.map((start) => args[start]);
    expect(options).toEqual([
      "--install",
      "--uninstall",
      "--update",
      "--run",
      "--write",
      "--upload",
      "--mkdir",
      "--delete",
      "--ssh-inject",
      "--hostname",
      "--timezone",
      "--root-password",
      "--root-password",
      "--root-password",
      "--firstboot",
      "--selinux-relabel",
    ]);
    expect(args).toContain("curl,ca-certificates,python3.11,g++");
    expect(args).toContain(`/etc/app/config.ini:a = 'b'\n$HOME \`x\` "q" ; rm -rf /\n`);
    expect(args).toContain("0640:/etc/app/config.ini");
    expect(args).toContain(`deploy:string:${key}`);
    expect(args).toContain("locked:disabled");
  });

  it("runs offline unless a step needs package repositories", () => {
    const { args } = virtCustomizeArgs({ disk: "/d", steps: [{ type: "mkdir", path: "/x" }], files });
    expect(args).toContain("--no-network");
  });

  it("produces arguments the real virt-customize accepts (it fails only on the missing disk)", async () => {
    const { args } = virtCustomizeArgs({ disk: path.join(dir, "missing.qcow2"), steps: everyStep, files });
    for (const [index, step] of everyStep.entries()) {
      if (step.type === "run" || step.type === "firstboot")
        await writeFile(files.script(index, step.script), step.script);
    }
    const failure = await run("virt-customize", args, { env: { ...process.env, LIBGUESTFS_BACKEND: "direct" } }).then(
      () => null,
      (error: { stderr: string }) => error.stderr,
    );
    expect(failure).toMatch(/missing\.qcow2: No such file or directory/);
    expect(failure).not.toMatch(/unrecognized option|invalid|expected/i);
  });

  it("shows the exact command with shell quoting of odd content", () => {
    const preview = previewCommand([
      { type: "write", path: "/etc/motd", content: "it's $HOME\n" },
      { type: "run", script: "true" },
      { type: "ssh-key", user: "root", key },
    ]);
    expect(preview).toBe(
      `virt-customize --format qcow2 -a '<work>/overlay.qcow2' --no-network --write '/etc/motd:it'\\''s $HOME\n' --run '<work>/step-2.sh' --ssh-inject 'root:string:${key}'`,
    );
    expect(shellQuote("plain-value_1.2")).toBe("plain-value_1.2");
    expect(shellQuote("")).toBe("''");
  });

  it("redacts a generated root password from log lines", () => {
    expect(redactLogLine("[  12.0] Setting random password of root to Xk3p9QzL")).toBe(
      "[  12.0] Setting random password of root to [redacted]",
    );
    expect(redactLogLine("[  13.0] Installing packages: curl")).toBe("[  13.0] Installing packages: curl");
  });
});

describe("step validation", () => {
  it.each([
    [{ type: "write", path: "etc/motd", content: "x" }, /absolute path/],
    [{ type: "write", path: "/etc/../shadow", content: "x" }, /“\.\.”/],
    [{ type: "mkdir", path: "/a:b" }, /“:”/],
    [{ type: "delete", path: "/" }, /Deleting \/ is not allowed/],
    [{ type: "install", packages: [""] }, /can't be empty/],
    [{ type: "install", packages: ["curl; rm -rf /"] }, /no spaces or shell characters/],
    [{ type: "install", packages: ["$(reboot)"] }, /no spaces or shell characters/],
    [{ type: "install", packages: [] }, /at least one package/],
    [{ type: "timezone", timezone: "Mars/Olympus_Mons" }, /time zone/],
    [{ type: "run", script: "x".repeat(64 * 1024 + 1) }, /at most 64 KiB/],
    [{ type: "write", path: "/big", content: "x".repeat(1024 * 1024 + 1) }, /at most 1 MiB/],
    [{ type: "ssh-key", user: "root", key: "not a key" }, /OpenSSH public key/],
    [{ type: "ssh-key", user: "Root!", key }, /user name/],
    [{ type: "hostname", hostname: "-bad-" }, /host name/],
    [{ type: "root-password", policy: "hunter2" }, /disabled, locked or random/],
    [{ type: "write", path: "/x", content: "y", mode: "999" }, /octal/],
    [{ type: "format-disk" }, /./],
    [{ type: "update", extra: true }, /./],
  ])("refuses %j", (input, message) => {
    const result = stepSchema.safeParse(input);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues.map((issue) => issue.message).join(" ")).toMatch(message);
  });

  it("accepts every step in the reference list", () => {
    for (const step of everyStep) expect(stepSchema.safeParse(step).success, step.type).toBe(true);
  });
});
