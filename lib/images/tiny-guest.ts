// A tiny but real Linux guest disk, built locally in about a second with no downloads: a static
// busybox root filesystem in ext4, converted with qemu-img. Tests, the demo seed and build tests use
// it wherever a real image is needed. Same inputs give the same bytes (fixed UUIDs and times).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, lstat, lutimes, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BUSYBOX = "/bin/busybox";
const FIXED_TIME = 1_700_000_000;

export type TinyGuestFormat = "raw" | "qcow2" | "vmdk" | "vhdx";

export interface OsRelease {
  id: string;
  name: string;
  versionId: string;
  prettyName: string;
}

export interface TinyGuest {
  raw: string;
  qcow2?: string;
  vmdk?: string;
  vhdx?: string;
  osRelease: OsRelease;
}

export interface BuildTinyGuestOptions {
  /** Where the disk files are written; created if missing. */
  dir: string;
  /** File stem of the outputs and the seed of the filesystem UUID. */
  name?: string;
  hostname?: string;
  osRelease?: OsRelease;
  sizeMiB?: number;
  formats?: TinyGuestFormat[];
  /** Absolute guest paths to file contents; written last, so they may replace the defaults. */
  extraFiles?: Record<string, string>;
}

const qemuFormat: Record<Exclude<TinyGuestFormat, "raw">, { format: string; options: string[] }> = {
  qcow2: { format: "qcow2", options: [] },
  vmdk: { format: "vmdk", options: ["-o", "subformat=monolithicSparse"] },
  vhdx: { format: "vhdx", options: [] },
};

function uuidFrom(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// os-release values are shell-style strings: these four characters need a backslash inside quotes.
function osReleaseValue(value: string): string {
  return `"${value.replace(/[\\"$`]/g, (character) => `\\${character}`)}"`;
}

function osReleaseFile({ id, name, versionId, prettyName }: OsRelease): string {
  return [
    `NAME=${osReleaseValue(name)}`,
    `ID=${id}`,
    `VERSION_ID=${osReleaseValue(versionId)}`,
    `PRETTY_NAME=${osReleaseValue(prettyName)}`,
    "",
  ].join("\n");
}

/** Every path under `dir`, relative to it, parents before children. */
async function walk(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of (await readdir(path.join(dir, prefix))).sort()) {
    const relative = path.posix.join(prefix, entry);
    found.push(relative);
    if ((await lstat(path.join(dir, relative))).isDirectory()) found.push(...(await walk(dir, relative)));
  }
  return found;
}

async function populateRoot(
  root: string,
  { hostname, osRelease, extraFiles }: { hostname: string; osRelease: OsRelease; extraFiles: Record<string, string> },
) {
  for (const folder of [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "etc",
    "root",
    "tmp",
    "proc",
    "sys",
    "dev",
    "var/log",
    "home",
  ]) {
    await mkdir(path.join(root, folder), { recursive: true });
  }
  await copyFile(BUSYBOX, path.join(root, "bin/busybox"));
  await chmod(path.join(root, "bin/busybox"), 0o755);
  // --list-full gives each applet's usual home (bin/sh, sbin/init, usr/bin/[), so scripts find them where a distro would put them.
  const { stdout } = await run(BUSYBOX, ["--list-full"]);
  for (const applet of stdout.split("\n").filter(Boolean)) {
    if (!/^(usr\/)?s?bin\/[^/]+$/.test(applet) || applet === "bin/busybox") continue;
    await symlink(path.posix.relative(path.posix.dirname(applet), "bin/busybox"), path.join(root, applet));
  }
  const files: Record<string, string> = {
    "/etc/os-release": osReleaseFile(osRelease),
    "/etc/hostname": `${hostname}\n`,
    "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "/etc/shadow": "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
    "/etc/group": "root:x:0:\nshadow:x:42:\nnogroup:x:65534:\n",
    "/etc/fstab": "LABEL=root / ext4 defaults 0 1\n",
    ...extraFiles,
  };
  for (const [file, content] of Object.entries(files)) {
    const target = path.resolve(root, `.${path.posix.resolve("/", file)}`);
    // debugfs reads its commands one per line with double-quoted paths, so neither may appear in a name.
    if (!file.startsWith("/") || /["\n\\]/.test(file) || !target.startsWith(`${root}${path.sep}`)) {
      throw new Error(
        `extraFiles key ${JSON.stringify(file)} must be an absolute guest path without quotes, backslashes or newlines`,
      );
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  await chmod(path.join(root, "etc/shadow"), 0o640);
}

/** Pins atime and mtime in the source tree, which mke2fs -d copies; returns every path in it. */
async function pinSourceTimes(root: string): Promise<string[]> {
  const paths = await walk(root);
  for (const relative of [...paths].reverse()) await lutimes(path.join(root, relative), FIXED_TIME, FIXED_TIME);
  await lutimes(root, FIXED_TIME, FIXED_TIME);
  return paths;
}

/**
 * mke2fs -d also copies ctime, which no system call can set, and e2fsprogs 1.47.0 ignores
 * SOURCE_DATE_EPOCH; so the ctimes are rewritten in the image with one debugfs run, under the same
 * fake clock so the superblock's write time stays fixed too.
 */
async function pinImageCtimes(raw: string, paths: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const commands = ["/", "/lost+found", ...paths.map((relative) => `/${relative}`)].map(
    (guestPath) => `sif "${guestPath}" ctime @${FIXED_TIME}`,
  );
  const commandFile = `${raw}.debugfs`;
  await writeFile(commandFile, `${commands.join("\n")}\n`);
  try {
    const { stderr } = await run("debugfs", ["-w", "-f", commandFile, raw], { env, maxBuffer: 16 * 1024 * 1024 });
    // debugfs exits 0 even when a command fails; anything beyond its version banner is an error.
    const problems = stderr.split("\n").filter((line) => line.trim() && !line.startsWith("debugfs "));
    if (problems.length > 0) throw new Error(`debugfs could not pin inode times: ${problems.slice(0, 3).join("; ")}`);
  } finally {
    await rm(commandFile, { force: true });
  }
}

export async function buildTinyGuest({
  dir,
  name = "tiny-guest",
  hostname = "tiny-guest",
  osRelease = { id: "busybox", name: "Busybox Linux", versionId: "1", prettyName: "Busybox Linux 1" },
  sizeMiB = 64,
  formats = ["raw", "qcow2"],
  extraFiles = {},
}: BuildTinyGuestOptions): Promise<TinyGuest> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`tiny guest name ${JSON.stringify(name)} must be a plain file name`);
  await mkdir(dir, { recursive: true });
  const root = path.resolve(dir, `${name}-root`);
  await rm(root, { recursive: true, force: true });
  try {
    await populateRoot(root, { hostname, osRelease, extraFiles });
    const paths = await pinSourceTimes(root);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(FIXED_TIME) };

    const raw = path.join(dir, `${name}.raw`);
    await rm(raw, { force: true });
    await run("truncate", ["-s", `${sizeMiB}M`, raw]);
    const uuid = uuidFrom(name);
    await run(
      "mkfs.ext4",
      ["-q", "-F", "-L", "root", "-U", uuid, "-E", `root_owner=0:0,hash_seed=${uuid}`, "-d", root, raw],
      { env },
    );
    await pinImageCtimes(raw, paths, env);
    const guest: TinyGuest = { raw, osRelease };
    for (const format of formats) {
      if (format === "raw") continue;
      const { format: qemu, options } = qemuFormat[format];
      const target = path.join(dir, `${name}.${format}`);
      await rm(target, { force: true });
      await run("qemu-img", ["convert", "-q", "-f", "raw", "-O", qemu, ...options, raw, target]);
      guest[format] = target;
    }
    return guest;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
