// A linked clone's overlay names its base by the base blob's sha256, never by a path: a blob sits at
// a different path on every machine (this store's folder, or one machine's cache of the bucket).
// qemu resolves a relative backing name against the overlay's path as it was opened, without
// resolving symlinks, so every tool opens a disk through a private folder holding it and, under their
// sha256, the bases beneath it. Each is a hard link: libguestfs realpath()s a read-only disk before
// putting its own overlay on it (a symlinked disk would resolve its bases in the store's folder), and
// a link keeps a cached copy's bytes even if the cache evicts it meanwhile. Across file systems the
// disk is copied (an overlay is small; a self-contained disk, only a bucket's cached copy) and its
// bases are symlinked. Linking costs 0.05 ms; a scratch
// copy of a 40 MiB overlay + `qemu-img rebase -u` cost 97 ms. Overlays made before this name their
// base's absolute path in this machine's store: they are still read here, and only here
// (`npm run blobs -- migrate --to s3` rewrites them, lib/blobs/rebase-legacy.ts).
import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { env } from "../env";
import { createTempFolder, getBlobStore, placeFile } from "../storage";
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
      .storedFile(legacy)
      .catch(() => null);
    if (here === named) return { sha256: legacy, qemuFormat };
  }
  throw new BackingChainError(
    `The overlay ${short}… names a backing file that is not a stored blob on this machine (${named.slice(0, 200)}); it is not read.`,
  );
}

/** Links `first` and every base beneath it into `dir` under its sha256; returns the chain, nearest first. */
async function linkBases(first: BackingBlob, dir: string): Promise<BackingBlob[]> {
  const store = getBlobStore();
  const bases: BackingBlob[] = [];
  for (let next: BackingBlob | null = first; next;) {
    if (bases.length >= MAX_CHAIN)
      throw new BackingChainError(`The backing chain is deeper than ${MAX_CHAIN}; flatten it with a full clone.`);
    bases.push(next);
    const { sha256, qemuFormat }: BackingBlob = next;
    next = await store.withLocalPath(sha256, async (file): Promise<BackingBlob | null> => {
      await placeFile(file, path.join(dir, sha256), "symlink");
      return qemuFormat === "qcow2" ? baseNamedBy(file, sha256) : null;
    });
  }
  return bases;
}

/**
 * The one way a tool opens a stored disk: a self-contained blob as it is; an overlay through `dir`
 * (private to the caller, who removes it), holding a hard link to it and its chain of bases.
 */
export async function stageDisk({ disk, dir }: { disk: DiskBlob; dir: string }): Promise<StagedDisk> {
  const store = getBlobStore();
  const format = qemuFormatOf(disk.format);
  // The local store's own file stays put; a cached copy of a bucket's blob is linked into `dir`, so
  // the cache may evict it while the tool still has to open it.
  const stored = await store.storedFile(disk.sha256);
  return store.withLocalPath(disk.sha256, async (file) => {
    const first = format === "qcow2" ? await baseNamedBy(file, disk.sha256) : null;
    if (!first && stored) return { path: stored, format, bases: [] };
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const bases = first ? await linkBases(first, dir) : [];
    const staged = path.join(dir, `disk-${disk.sha256}`);
    await placeFile(file, staged, "copy");
    return { path: staged, format, bases };
  });
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
