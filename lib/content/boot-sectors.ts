// Whether a disk can boot at all, read from its first sectors through a raw view of the image
// (`qemu-img dd`, any format, no appliance): BIOS boot code in the master boot record, or an EFI
// system partition in an MBR or GPT partition table. Cheap enough to decide on every upload
// whether a boot test is worth queueing, and what the boot test says when nothing can boot.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { qemuFormatOf } from "@/lib/images/qemu-img";

const run = promisify(execFile);
const SECTOR = 512;
/** The MBR, the GPT header and its 128 entries (34 sectors), and an ISO 9660 boot record (sector 17 of 2048 bytes). */
export const BOOT_SECTORS = 72;
const ESP_GUID = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";

export type Firmware = "bios" | "uefi";

export type Bootability = { bootable: true; firmware: Firmware; how: string } | { bootable: false; reason: string };

/** The mixed-endian GUID of a GPT entry, as text. */
function guidAt(buffer: Buffer, offset: number): string {
  const hex = (start: number, end: number) => buffer.subarray(offset + start, offset + end).toString("hex");
  const swapped = (start: number, end: number) =>
    Buffer.from(buffer.subarray(offset + start, offset + end))
      .reverse()
      .toString("hex");
  return `${swapped(0, 4)}-${swapped(4, 6)}-${swapped(6, 8)}-${hex(8, 10)}-${hex(10, 16)}`;
}

function hasEfiPartition(sectors: Buffer): boolean {
  const signature = sectors.readUInt16LE(510) === 0xaa55;
  if (!signature) return false;
  const types = [0, 1, 2, 3].map((index) => sectors[446 + index * 16 + 4]);
  if (types.includes(0xef)) return true;
  if (!types.includes(0xee) || sectors.length < 2 * SECTOR) return false;
  const header = sectors.subarray(SECTOR, 2 * SECTOR);
  if (header.subarray(0, 8).toString("latin1") !== "EFI PART") return false;
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const size = header.readUInt32LE(84);
  if (size < 128) return false;
  for (let index = 0; index < count; index += 1) {
    const offset = entriesLba * SECTOR + index * size;
    if (offset + 16 > sectors.length) break;
    if (guidAt(sectors, offset) === ESP_GUID) return true;
  }
  return false;
}

/** A CD's boot record volume descriptor: sector 16 onwards in 2048-byte sectors, the first is at 17 at the earliest. */
function hasElTorito(sectors: Buffer): boolean {
  const offset = 17 * 2048;
  if (sectors.length < offset + 32) return false;
  return (
    sectors[offset] === 0 &&
    sectors.subarray(offset + 1, offset + 6).toString("latin1") === "CD001" &&
    sectors.subarray(offset + 7, offset + 30).toString("latin1") === "EL TORITO SPECIFICATION"
  );
}

/** Decides from the disk's first sectors (at least the first one; 34 to see a GPT). */
export function bootabilityOf(sectors: Buffer): Bootability {
  if (sectors.length < SECTOR)
    return { bootable: false, reason: "no bootloader found: the disk is smaller than one sector" };
  const signature = sectors.readUInt16LE(510) === 0xaa55;
  const code = sectors.subarray(0, 440).some((byte) => byte !== 0);
  if (signature && code) return { bootable: true, firmware: "bios", how: "boot code in the first sector" };
  if (hasEfiPartition(sectors)) return { bootable: true, firmware: "uefi", how: "an EFI system partition" };
  if (hasElTorito(sectors))
    return { bootable: true, firmware: "bios", how: "an El Torito boot record (a bootable CD)" };
  return {
    bootable: false,
    reason: code
      ? "no bootloader found: the first sector has code but no boot signature, and there is no EFI system partition"
      : "no bootloader found: the first sector has no boot code and there is no EFI system partition",
  };
}

/** The first sectors of the disk an image file holds (not of the file: a qcow2's header is skipped). */
export async function readBootSectors({
  file,
  format,
  signal,
}: {
  file: string;
  format: string;
  signal?: AbortSignal;
}): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-boot-sectors-"));
  try {
    const out = path.join(dir, "sectors.raw");
    await run(
      "qemu-img",
      [
        "dd",
        "-f",
        qemuFormatOf(format),
        "-O",
        "raw",
        `bs=${SECTOR}`,
        `count=${BOOT_SECTORS}`,
        `if=${file}`,
        `of=${out}`,
      ],
      { timeout: 60_000, signal, env: { ...process.env, LC_ALL: "C" } },
    );
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads and decides; a disk qemu-img can't read can't boot either, and the reason says why. */
export async function checkBootability(input: {
  file: string;
  format: string;
  signal?: AbortSignal;
}): Promise<Bootability> {
  try {
    return bootabilityOf(await readBootSectors(input));
  } catch (error) {
    if (input.signal?.aborted) throw error;
    const message = ((error as { stderr?: string }).stderr || (error as Error).message).trim().split("\n")[0];
    return { bootable: false, reason: `the disk's first sectors could not be read: ${message}` };
  }
}
