// Overlays that name their base by sha256, with the real qemu-img and the real local blob store:
// made on one "machine" (a data directory), then read on another whose store holds the same blobs at
// other paths while the first directory is gone; a clone of a clone; an overlay made before this
// change (an absolute path) still read here; names Hangar does not read through, refused.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBlobStore, hashFile } from "@/lib/storage";
import { BackingChainError, checkOverlayOf, createOverlay, stageDisk, withStagedDisk, type DiskBlob } from "./backing";
import { qemuImgInfo } from "./qemu-img";

const run = promisify(execFile);
const originalDataDir = process.env.HANGAR_DATA_DIR;
let root: string;
let machineA: string;
let machineB: string;

/** Stores `file` (a copy of it) in the current data directory's blob store. */
async function store(file: string): Promise<string> {
  const { sha256, size } = await hashFile(file);
  const temp = path.join(root, `in-${randomBytes(6).toString("hex")}`);
  await copyFile(file, temp);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256, size });
  return sha256;
}

/** An overlay on `base` with `pattern` written at `offset`, stored; the work folder goes. */
async function storedOverlay(base: DiskBlob, pattern: number, offset: string): Promise<string> {
  const work = await mkdtemp(path.join(root, "work-"));
  const file = path.join(work, "overlay.qcow2");
  await createOverlay({ base, file });
  await run("qemu-io", ["-f", "qcow2", "-c", `write -P ${pattern} ${offset} 1M`, file]);
  const sha256 = await store(file);
  await rm(work, { recursive: true });
  return sha256;
}

/** sha256 of the disk's content as raw bytes, read through the staged chain. */
async function rawContent(disk: DiskBlob): Promise<string> {
  const out = path.join(root, `raw-${randomBytes(6).toString("hex")}`);
  await withStagedDisk(disk, (staged) =>
    run("qemu-img", ["convert", "-f", staged.format, "-O", "raw", staged.path, out]),
  );
  const { sha256 } = await hashFile(out);
  await rm(out);
  return sha256;
}

let base: DiskBlob;
let clone: DiskBlob;
let cloneOfClone: DiskBlob;
const contentOnA: Record<string, string> = {};

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "hangar-backing-"));
  machineA = path.join(root, "machine-a");
  machineB = path.join(root, "machine-b");
  process.env.HANGAR_DATA_DIR = machineA;
  await mkdir(machineA, { recursive: true });
  const raw = path.join(root, "base.raw");
  await writeFile(raw, randomBytes(8 * 1024 * 1024));
  base = { sha256: await store(raw), format: "raw" };
  clone = { sha256: await storedOverlay(base, 0x41, "1M"), format: "qcow2" };
  cloneOfClone = { sha256: await storedOverlay(clone, 0x42, "3M"), format: "qcow2" };
  for (const disk of [base, clone, cloneOfClone]) contentOnA[disk.sha256] = await rawContent(disk);
}, 60_000);

afterAll(async () => {
  process.env.HANGAR_DATA_DIR = originalDataDir;
  await rm(root, { recursive: true, force: true });
});

describe("a linked clone's overlay", () => {
  it("names its base by sha256 and format only: no path of this machine in its header", async () => {
    const file = await getBlobStore().localPath(clone.sha256);
    const info = await qemuImgInfo({ path: file, format: "qcow2" });
    expect(info["backing-filename"]).toBe(base.sha256);
    expect(info["backing-filename-format"]).toBe("raw");
    const bytes = await readFile(file);
    expect(bytes.includes(machineA)).toBe(false);
    expect(bytes.includes(`/${base.sha256}`)).toBe(false);
    await expect(checkOverlayOf({ file, base })).resolves.toMatchObject({ format: "qcow2" });
    // The same header checked against another base, or another format of it, is refused.
    await expect(checkOverlayOf({ file, base: { sha256: clone.sha256, format: "raw" } })).rejects.toThrow(
      /not what was created/,
    );
    await expect(checkOverlayOf({ file, base: { ...base, format: "qcow2" } })).rejects.toThrow(/not what was created/);
  });

  it("reads its own bytes over the base's, and a clone of a clone reads both layers", async () => {
    expect(new Set(Object.values(contentOnA)).size).toBe(3);
    const staged = await stageDisk({ disk: cloneOfClone, dir: path.join(root, "chain") });
    expect(staged.bases).toEqual([
      { sha256: clone.sha256, qemuFormat: "qcow2" },
      { sha256: base.sha256, qemuFormat: "raw" },
    ]);
    const { stdout } = await run("qemu-io", [
      "-f",
      "qcow2",
      "-r",
      "-c",
      "read -P 0x41 1M 1M",
      "-c",
      "read -P 0x42 3M 1M",
      staged.path,
    ]);
    expect(stdout).not.toMatch(/Pattern verification failed/);
    await rm(path.join(root, "chain"), { recursive: true });
  });

  it("reads the same bytes on another machine, whose store holds the blobs at other paths", async () => {
    process.env.HANGAR_DATA_DIR = machineB;
    await mkdir(machineB, { recursive: true });
    for (const disk of [base, clone, cloneOfClone]) {
      const from = path.join(machineA, "blobs", disk.sha256.slice(0, 2), disk.sha256.slice(2, 4), disk.sha256);
      expect(await store(from)).toBe(disk.sha256);
    }
    await rm(machineA, { recursive: true }); // nothing of the first machine is left to point at
    const elsewhere = await getBlobStore().localPath(clone.sha256);
    expect(elsewhere.startsWith(machineB)).toBe(true);
    // Opened where it is stored, the overlay can't find its base; staged, it reads as on machine A.
    await expect(
      run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", elsewhere, path.join(root, "x.raw")]),
    ).rejects.toThrow(/Could not open backing file/);
    for (const disk of [clone, cloneOfClone]) expect(await rawContent(disk)).toBe(contentOnA[disk.sha256]);
  });

  it("keeps reading a base whose stored file goes meanwhile (a cache evicting it): the folder holds links, not names", async () => {
    const dir = path.join(root, "evicted");
    const staged = await stageDisk({ disk: cloneOfClone, dir });
    const baseFile = await getBlobStore().localPath(base.sha256);
    await rename(baseFile, `${baseFile}.away`);
    try {
      const out = path.join(dir, "flat.raw");
      await run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", staged.path, out]);
      expect((await hashFile(out)).sha256).toBe(contentOnA[cloneOfClone.sha256]);
    } finally {
      await rename(`${baseFile}.away`, baseFile);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("hands a self-contained disk over where it is stored, and leaves no scratch folder behind", async () => {
    const staged = await stageDisk({ disk: base, dir: path.join(root, "unused") });
    expect(staged).toEqual({ path: await getBlobStore().localPath(base.sha256), format: "raw", bases: [] });
    let scratch = "";
    await withStagedDisk(clone, async (disk) => {
      scratch = path.dirname(disk.path);
    });
    await expect(readFile(path.join(scratch, base.sha256))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("a scratch folder on another file system than the store", () => {
  it.skipIf(!existsSync("/dev/shm"))(
    "holds a copy of the overlay (no hard link can cross), read the same",
    async () => {
      const dir = await mkdtemp("/dev/shm/hangar-backing-");
      try {
        const staged = await stageDisk({ disk: cloneOfClone, dir });
        expect(staged.path.startsWith(dir)).toBe(true);
        expect((await hashFile(staged.path)).sha256).toBe(cloneOfClone.sha256);
        const out = path.join(dir, "flat.raw");
        await run("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", staged.path, out]);
        expect((await hashFile(out)).sha256).toBe(contentOnA[cloneOfClone.sha256]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("overlays made before bases were named by sha256", () => {
  it("still read on this machine, where the absolute path they name is the base's stored file", async () => {
    const work = await mkdtemp(path.join(root, "legacy-"));
    const file = path.join(work, "legacy.qcow2");
    const basePath = await getBlobStore().localPath(base.sha256);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", basePath, file]);
    const legacy = { sha256: await store(file), format: "qcow2" };
    const staged = await stageDisk({ disk: legacy, dir: path.join(work, "stage") });
    expect(staged.bases).toEqual([{ sha256: base.sha256, qemuFormat: "raw" }]);
    expect(await rawContent(legacy)).toBe(contentOnA[base.sha256]);
  });

  it("are refused when the path they name is not a stored blob here", async () => {
    const work = await mkdtemp(path.join(root, "outside-"));
    const outside = path.join(work, base.sha256);
    await copyFile(await getBlobStore().localPath(base.sha256), outside);
    const file = path.join(work, "outside.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", outside, file]);
    const named = { sha256: await store(file), format: "qcow2" };
    await expect(stageDisk({ disk: named, dir: path.join(work, "stage") })).rejects.toBeInstanceOf(BackingChainError);
    await expect(withStagedDisk(named, async () => {})).rejects.toThrow(/not a stored blob on this machine/);
  });
});
