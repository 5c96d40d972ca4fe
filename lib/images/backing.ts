// A linked clone's overlay names its base by the base blob's sha256, never by a path: a blob sits at
// a different path on every machine (this store's folder, or one machine's cache of the bucket).
// qemu resolves a relative backing name against the overlay's path as it was opened, without
// resolving symlinks, so every tool opens a disk through a private folder holding it and, under their
// sha256, the bases beneath it. Each is a hard link: libguestfs realpath()s a read-only disk before
// putting its own overlay on it (a symlinked disk would resolve its bases in the store's folder), and
// a link keeps a cached copy's bytes even if the cache evicts it meanwhile. Across file systems the
// disk is copied (an overlay is small) and its bases are symlinked. Linking costs 0.05 ms; a scratch
// copy of a 40 MiB overlay + `qemu-img rebase -u` cost 97 ms. Overlays made before this name their
// base's absolute path in this machine's store: they are still read here, and only here.
import { constants } from "node:fs";
import { copyFile, link, mkdir, open, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { env } from "../env";
import { createTempFolder, getBlobStore } from "../storage";
import {
  qemuFormatOf,
  qemuFormats,
  qemuImgCreateOverlay,
  qemuImgInfo,
  type QemuFormat,
  type QemuImgInfo,
} from "./qemu-img";

const SHA256 = /^[0-9a-f]{64}$/;
const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
/** A clone of a clone of … deeper than this is not read (content addresses can't loop; this bounds the work). */
const MAX_CHAIN = 16;

/** A stored blob read as a disk: its sha256 and Hangar's name for its format. */
export interface DiskBlob {
  sha256: string;
  format: string;
}

/** A base as an overlay's header names it, with qemu's name for its format. */
export interface BackingBlob {
  sha256: string;
  qemuFormat: QemuFormat;
}

export interface StagedDisk {
  /** What to hand a tool: the blob's own path when it is self-contained. */
  path: string;
  format: QemuFormat;
  /** The bases beneath it, nearest first; empty for a self-contained disk. */
  bases: BackingBlob[];
}

/** An overlay whose header names something Hangar does not read a backing chain through. */
export class BackingChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackingChainError";
  }
}

/**
 * Whether a qcow2 file may name a base: its header says so at byte 8 (0: none). Most disks don't,
 * and reading 16 bytes spares them a qemu-img run (tens of ms, a linked clone's whole budget).
 */
async function mayNameABase(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(16), 0, 16, 0);
    return bytesRead < 16 || buffer.readUInt32BE(0) !== QCOW2_MAGIC || buffer.readBigUInt64BE(8) !== 0n;
  } finally {
    await handle.close();
  }
}

/** The base named by the qcow2 blob at `file`, or null; refuses anything but a stored blob with an explicit format. */
async function baseNamedBy(file: string, sha256: string): Promise<BackingBlob | null> {
  if (!(await mayNameABase(file))) return null;
  const info = await qemuImgInfo({ path: file, format: "qcow2" });
  const short = sha256.slice(0, 12);
  if (info["format-specific"]?.data?.["data-file"])
    throw new BackingChainError(`The qcow2 file ${short}… names an external data file; it is not read.`);
  const named = info["backing-filename"];
  if (!named) return null;
  const format = info["backing-filename-format"];
  if (!format || !(qemuFormats as readonly string[]).includes(format))
    throw new BackingChainError(
      `The overlay ${short}… does not record its base's format; Hangar reads backing chains only with explicit formats.`,
    );
  const qemuFormat = format as QemuFormat;
  if (SHA256.test(named)) return { sha256: named, qemuFormat };
  // Made before bases were named by sha256: the base's absolute path in this machine's store.
  const legacy = path.basename(named);
  if (path.isAbsolute(named) && SHA256.test(legacy)) {
    const here = await getBlobStore()
      .localPath(legacy)
      .catch(() => null);
    if (here === named) return { sha256: legacy, qemuFormat };
  }
  throw new BackingChainError(
    `The overlay ${short}… names a backing file that is not a stored blob on this machine (${named.slice(0, 200)}); it is not read.`,
  );
}

/** Hard-links `file` as `target`, or (across file systems) copies or symlinks it; a name already there is kept. */
async function place(file: string, target: string, otherwise: "copy" | "symlink"): Promise<void> {
  try {
    await link(file, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Names in the folder are content addresses: one that is there already holds the same bytes.
    if (code === "EEXIST") return;
    if (code !== "EXDEV" && code !== "EPERM") throw error;
    if (otherwise === "copy") await copyFile(file, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    else await symlink(file, target);
  }
}

/** Links `first` and every base beneath it into `dir` under its sha256; returns the chain, nearest first. */
async function linkBases(first: BackingBlob, dir: string): Promise<BackingBlob[]> {
  const store = getBlobStore();
  const bases: BackingBlob[] = [];
  for (let next: BackingBlob | null = first; next;) {
    if (bases.length >= MAX_CHAIN)
      throw new BackingChainError(`The backing chain is deeper than ${MAX_CHAIN}; flatten it with a full clone.`);
    bases.push(next);
    const file = await store.localPath(next.sha256);
    await place(file, path.join(dir, next.sha256), "symlink");
    next = next.qemuFormat === "qcow2" ? await baseNamedBy(file, next.sha256) : null;
  }
  return bases;
}

/**
 * The one way a tool opens a stored disk: a self-contained blob as it is; an overlay through `dir`
 * (private to the caller, who removes it), holding a hard link to it and its chain of bases.
 */
export async function stageDisk({ disk, dir }: { disk: DiskBlob; dir: string }): Promise<StagedDisk> {
  const file = await getBlobStore().localPath(disk.sha256);
  const format = qemuFormatOf(disk.format);
  const first = format === "qcow2" ? await baseNamedBy(file, disk.sha256) : null;
  if (!first) return { path: file, format, bases: [] };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const bases = await linkBases(first, dir);
  const staged = path.join(dir, `disk-${disk.sha256}`);
  await place(file, staged, "copy");
  return { path: staged, format, bases };
}

/** stageDisk in a private temp folder (this process's), removed when `work` ends. */
export async function withStagedDisk<T>(disk: DiskBlob, work: (staged: StagedDisk) => Promise<T>): Promise<T> {
  const dir = await createTempFolder({ root: env().dataDir, prefix: "disk" });
  try {
    return await work(await stageDisk({ disk, dir }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Throws unless `file` is a qcow2 overlay whose header names exactly `base` (by sha256) and its format. */
export async function checkOverlayOf({ file, base }: { file: string; base: DiskBlob }): Promise<QemuImgInfo> {
  const info = await qemuImgInfo({ path: file, format: "qcow2" });
  if (
    info.format !== "qcow2" ||
    info["backing-filename"] !== base.sha256 ||
    info["backing-filename-format"] !== qemuFormatOf(base.format) ||
    info["format-specific"]?.data?.["data-file"]
  ) {
    throw new Error(
      `the overlay is not what was created: ${JSON.stringify({ format: info.format, backing: info["backing-filename"], backingFormat: info["backing-filename-format"] })}`,
    );
  }
  return info;
}

/**
 * A new qcow2 overlay at `file` on the stored blob `base`, named in its header by sha256 alone; the
 * base and its chain are linked into file's folder, so tools open `file` where it is.
 */
export async function createOverlay({ base, file }: { base: DiskBlob; file: string }): Promise<QemuImgInfo> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await linkBases({ sha256: base.sha256, qemuFormat: qemuFormatOf(base.format) }, dir);
  await qemuImgCreateOverlay({ backingName: base.sha256, backingFormat: base.format, dst: file });
  return checkOverlayOf({ file, base });
}
