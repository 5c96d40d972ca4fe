import { describe, expect, it } from "vitest";
import { bootabilityOf } from "./boot-sectors";

const sectors = (count = 72) => Buffer.alloc(count * 512);

function mbr(buffer: Buffer, { code = false, types = [] as number[] } = {}) {
  if (code) buffer.fill(0xfa, 0, 440);
  types.forEach((type, index) => (buffer[446 + index * 16 + 4] = type));
  buffer.writeUInt16LE(0xaa55, 510);
  return buffer;
}

/** A GPT whose second entry is an EFI system partition. */
function gptWithEsp(): Buffer {
  const buffer = mbr(sectors(), { types: [0xee] });
  buffer.write("EFI PART", 512, "latin1");
  buffer.writeBigUInt64LE(2n, 512 + 72);
  buffer.writeUInt32LE(128, 512 + 80);
  buffer.writeUInt32LE(128, 512 + 84);
  // C12A7328-F81F-11D2-BA4B-00A0C93EC93B, mixed-endian as stored.
  Buffer.from("28732ac11ff8d211ba4b00a0c93ec93b", "hex").copy(buffer, 2 * 512 + 128);
  return buffer;
}

describe("bootabilityOf", () => {
  it("refuses a disk whose first sector is empty (a whole-disk file system)", () => {
    expect(bootabilityOf(sectors())).toEqual({
      bootable: false,
      reason: "no bootloader found: the first sector has no boot code and there is no EFI system partition",
    });
  });

  it("finds BIOS boot code with the boot signature", () => {
    expect(bootabilityOf(mbr(sectors(), { code: true, types: [0x83] }))).toMatchObject({
      bootable: true,
      firmware: "bios",
    });
    const unsigned = sectors();
    unsigned.fill(0xfa, 0, 440);
    expect(bootabilityOf(unsigned)).toMatchObject({
      bootable: false,
      reason: expect.stringMatching(/no boot signature/),
    });
  });

  it("finds an EFI system partition in an MBR or a GPT", () => {
    expect(bootabilityOf(mbr(sectors(), { types: [0x83, 0xef] }))).toMatchObject({ bootable: true, firmware: "uefi" });
    expect(bootabilityOf(gptWithEsp())).toMatchObject({ bootable: true, firmware: "uefi" });
    const noEsp = gptWithEsp();
    noEsp.fill(0, 2 * 512, 3 * 512);
    expect(bootabilityOf(noEsp).bootable).toBe(false);
  });

  it("finds a bootable CD", () => {
    const cd = sectors();
    const at = 17 * 2048;
    cd[at] = 0;
    cd.write("CD001", at + 1, "latin1");
    cd.write("EL TORITO SPECIFICATION", at + 7, "latin1");
    expect(bootabilityOf(cd)).toMatchObject({ bootable: true, firmware: "bios" });
  });
});
