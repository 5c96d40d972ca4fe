// Hostile images are built the way oslo.utils' inspector tests build them: real qemu-img output,
// then byte patching. Every verdict must be identical at every read size.
import { execFile } from "node:child_process";
import { mkdtemp, open, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { inspectFile } from "../qemu-img";
import { createInspector, type InspectionReport } from "./index";

const run = promisify(execFile);
const READ_SIZES = [17, 512, 4096, 65536, 1024 * 1024];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-inspector-"));
});

const file = (name: string) => path.join(dir, name);

async function qemuCreate(name: string, format: string, size: string, extra: string[] = []) {
  await run("qemu-img", ["create", "-q", "-f", format, ...extra, file(name), size]);
  return file(name);
}

async function patch(target: string, offset: number, bytes: Uint8Array | number[]) {
  const handle = await open(target, "r+");
  await handle.write(Uint8Array.from(bytes), 0, bytes.length, offset);
  await handle.close();
}

const u32be = (value: number) => [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
const u64be = (value: bigint) =>
  Array.from({ length: 8 }, (_, index) => Number((value >> BigInt(56 - index * 8)) & 255n));
const u64le = (value: bigint) => u64be(value).reverse();
const u32le = (value: number) => u32be(value).reverse();

async function inspectAt(
  target: string,
  readSize: number,
  claimedFormat?: string,
): Promise<InspectionReport & { retained: number }> {
  const inspector = createInspector({ claimedFormat });
  const data = await readFile(target);
  let retained = 0;
  for (let offset = 0; offset < data.length; offset += readSize) {
    inspector.write(data.subarray(offset, offset + readSize));
    retained = Math.max(retained, inspector.retainedBytes());
  }
  return { ...inspector.finish(), retained };
}

/** Inspects at every read size, requires identical verdicts, and returns the verdict. */
async function verdict(target: string, claimedFormat?: string): Promise<InspectionReport> {
  const reports = await Promise.all(READ_SIZES.map((size) => inspectAt(target, size, claimedFormat)));
  const [first, ...rest] = reports.map(({ retained: _retained, ...report }) => report);
  for (const other of rest) expect(other).toEqual(first);
  return first!;
}

const codes = (report: InspectionReport) => report.problems.map((problem) => problem.code);

async function rewriteVmdkDescriptor(target: string, transform: (text: string) => string) {
  const data = await readFile(target);
  const size = Number(data.readBigUInt64LE(36)) * 512;
  const region = data.subarray(512, 512 + size);
  const end = region.indexOf(0);
  const text = transform(region.subarray(0, end === -1 ? region.length : end).toString("latin1"));
  if (text.length > size) throw new Error("descriptor grew too much");
  region.fill(0);
  region.write(text, 0, "latin1");
  await writeFile(target, data);
}

/**
 * A real monolithicSparse VMDK from qemu-img, rebuilt with a larger embedded descriptor: the
 * tables after it move by the added sectors, and the header and grain directories follow.
 */
async function vmdkWithDescriptor(name: string, transform: (text: string) => string, descriptorSectors: number) {
  const original = await readFile(await qemuCreate(`source-${name}`, "vmdk", "64M"));
  const oldSectors = Number(original.readBigUInt64LE(36));
  const oldEnd = (1 + oldSectors) * 512;
  const delta = descriptorSectors - oldSectors;
  const region = original.subarray(512, oldEnd);
  const end = region.indexOf(0);
  const text = Buffer.from(
    transform(region.subarray(0, end === -1 ? region.length : end).toString("latin1")),
    "latin1",
  );
  if (text.length > descriptorSectors * 512) throw new Error("descriptor does not fit");
  const descriptor = Buffer.alloc(descriptorSectors * 512);
  text.copy(descriptor);
  const header = Buffer.from(original.subarray(0, 512));
  header.writeBigUInt64LE(BigInt(descriptorSectors), 36);
  const rest = Buffer.from(original.subarray(oldEnd));
  const capacity = Number(header.readBigUInt64LE(12));
  const perTable = header.readUInt32LE(44) * Number(header.readBigUInt64LE(20));
  for (const field of [48, 56]) {
    const directory = Number(header.readBigUInt64LE(field));
    header.writeBigUInt64LE(BigInt(directory + delta), field);
    for (let index = 0; index < Math.ceil(capacity / perTable); index += 1) {
      const at = (directory - 1 - oldSectors) * 512 + index * 4;
      const table = rest.readUInt32LE(at);
      if (table) rest.writeUInt32LE(table + delta, at);
    }
  }
  header.writeBigUInt64LE(header.readBigUInt64LE(64) + BigInt(delta), 64);
  await writeFile(file(name), Buffer.concat([header, descriptor, rest]));
  return file(name);
}

async function vhdFixChecksum(target: string, footerOffset: number) {
  const data = await readFile(target);
  const footer = data.subarray(footerOffset, footerOffset + 512);
  footer.writeUInt32BE(0, 64);
  let sum = 0;
  for (const byte of footer) sum += byte;
  footer.writeUInt32BE(~sum >>> 0, 64);
  await writeFile(target, data);
}

describe("well-formed images pass, with qemu-img's virtual size", () => {
  it.each([
    ["qcow2", "qcow2", []],
    ["raw", "raw", []],
    ["vmdk", "vmdk", []],
    ["vmdk", "vmdk", ["-o", "subformat=streamOptimized"]],
    ["vpc", "vhd", []],
    ["vpc", "vhd", ["-o", "subformat=fixed"]],
    ["vhdx", "vhdx", []],
    ["vdi", "vdi", []],
  ] as const)("%s %j", async (qemu, format, extra) => {
    const target = await qemuCreate(`ok-${qemu}-${extra.length}.img`, qemu, "8M", [...extra]);
    const report = await verdict(target);
    expect(report).toMatchObject({ format, safe: true, problems: [] });
    const { stdout } = await run("qemu-img", ["info", "--output=json", "-f", qemu, target]);
    expect(report.virtualSize).toBe((JSON.parse(stdout) as { "virtual-size": number })["virtual-size"]);
    expect((await verdict(target, format)).safe).toBe(true);
    expect((await inspectFile({ path: target, claimedFormat: format })).safe).toBe(true);
  });

  it("an ISO, and a hybrid ISO with a partition table, are ISO", async () => {
    const target = file("ok.iso");
    await run("genisoimage", ["-quiet", "-o", target, "/etc/hostname"]);
    const report = await verdict(target);
    expect(report).toMatchObject({ format: "iso", safe: true });
    expect(report.virtualSize).toBe((await stat(target)).size);
    await patch(target, 510, [0x55, 0xaa]);
    expect(await verdict(target)).toMatchObject({ format: "iso", safe: true });
  });
});

describe("qcow2", () => {
  it.each([
    ["a host path", ["-b", "/etc/passwd"]],
    ["a protocol", ["-b", "nbd://127.0.0.1:10809/export"]],
    ["a json: spec", ["-b", 'json:{"driver":"raw","file":{"driver":"file","filename":"/etc/shadow"}}']],
  ])("refuses a backing file given as %s", async (_label, backing) => {
    const target = await qemuCreate(`backing-${backing[1]!.length}.qcow2`, "qcow2", "1M", [
      "-u",
      "-F",
      "raw",
      ...backing,
    ]);
    const report = await verdict(target);
    expect(report.safe).toBe(false);
    expect(codes(report)).toContain("qcow2_backing_file");
    expect(report.problems[0]!.message).toMatch(/backing file.*self-contained/);
  });

  it("refuses an external data file", async () => {
    const target = await qemuCreate("datafile.qcow2", "qcow2", "1M", ["-o", `data_file=${file("datafile.raw")}`]);
    expect(codes(await verdict(target))).toEqual(expect.arrayContaining(["qcow2_data_file", "qcow2_data_file_name"]));
  });

  it.each([
    ["corrupt", 1n << 1n, "qcow2_corrupt"],
    ["unknown", 1n << 10n, "qcow2_unknown_features"],
    ["extended L2 (not allowed)", 1n << 4n, "qcow2_unknown_features"],
  ])("refuses %s incompatible feature bits", async (_label, bits, code) => {
    const target = await qemuCreate(`features-${code}-${bits}.qcow2`, "qcow2", "1M");
    await patch(target, 72, u64be(bits));
    expect(codes(await verdict(target))).toContain(code);
  });

  it("accepts the dirty bit, and reads version 2 header extensions as extensions", async () => {
    const dirty = await qemuCreate("dirty.qcow2", "qcow2", "1M");
    await patch(dirty, 72, u64be(1n));
    expect((await verdict(dirty)).safe).toBe(true);
    const v2 = await qemuCreate("v2.qcow2", "qcow2", "1M", ["-o", "compat=0.10"]);
    expect(await verdict(v2)).toMatchObject({ format: "qcow2", safe: true });
  });

  it.each([1, 4])("refuses version %i", async (version) => {
    const target = await qemuCreate(`v${version}.qcow2`, "qcow2", "1M");
    await patch(target, 4, u32be(version));
    expect(codes(await verdict(target))).toEqual(["qcow2_version"]);
  });

  it("refuses encryption, an absurd size and a truncated header", async () => {
    const encrypted = await qemuCreate("enc.qcow2", "qcow2", "1M");
    await patch(encrypted, 32, u32be(1));
    expect(codes(await verdict(encrypted))).toContain("qcow2_encrypted");
    const absurd = await qemuCreate("absurd.qcow2", "qcow2", "1M");
    await patch(absurd, 24, u64be(1n << 60n));
    expect(codes(await verdict(absurd))).toEqual(expect.arrayContaining(["virtual_size_absurd", "qcow2_l1_too_small"]));
    const whole = await readFile(await qemuCreate("whole.qcow2", "qcow2", "1M"));
    await writeFile(file("truncated.qcow2"), whole.subarray(0, 60));
    expect(codes(await verdict(file("truncated.qcow2")))).toContain("qcow2_truncated");
  });
});

describe("vmdk", () => {
  it("refuses monolithicFlat and hand-written descriptors pointing at host files", async () => {
    const flat = await qemuCreate("flat.vmdk", "vmdk", "1M", ["-o", "subformat=monolithicFlat"]);
    const report = await verdict(flat);
    expect(report).toMatchObject({ format: "vmdk", safe: false });
    expect(report.problems[0]!.message).toMatch(/VMDK descriptor that points at another file/);
    await writeFile(
      file("hostile.vmdk"),
      '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "/etc/passwd" 0\n',
    );
    expect(codes(await verdict(file("hostile.vmdk")))).toContain("vmdk_text_descriptor");
  });

  it("finds a text descriptor however far into the file its createType line sits", async () => {
    const padding = "# padding comment line to push createType far into the file\n".repeat(20_000);
    await writeFile(
      file("far.vmdk"),
      `# Disk DescriptorFile\nversion=1\n${padding}createType="monolithicFlat"\nRW 2048 FLAT "/etc/passwd" 0\n`,
    );
    expect((await stat(file("far.vmdk"))).size).toBeGreaterThan(1024 * 1024);
    expect(await verdict(file("far.vmdk"))).toMatchObject({ format: "vmdk", safe: false });
  });

  it("refuses extents with paths, bad descriptor offsets and capacity 0", async () => {
    const withPath = await qemuCreate("path.vmdk", "vmdk", "1M");
    await rewriteVmdkDescriptor(withPath, (text) => text.replace(/SPARSE "[^"]*"/, 'SPARSE "/etc/passwd"'));
    expect(codes(await verdict(withPath))).toContain("vmdk_extent_path");
    const offset = await qemuCreate("offset.vmdk", "vmdk", "1M");
    await patch(offset, 28, u64le(2n));
    expect(codes(await verdict(offset))).toContain("vmdk_descriptor_offset");
    const zero = await qemuCreate("zero.vmdk", "vmdk", "1M");
    await patch(zero, 12, u64le(0n));
    expect(codes(await verdict(zero))).toContain("vmdk_capacity_zero");
  });

  it("refuses duplicate, case-varied and non-sparse createTypes and parentFileNameHint", async () => {
    const cases: [string, (text: string) => string, string][] = [
      ["dup", (text) => text.replace("parentCID=ffffffff", 'createType="vmfs"\n'), "vmdk_duplicate_createtype"],
      ["case", (text) => text.replace("createType", "createtype"), "vmdk_createtype_case"],
      [
        "parent",
        (text) => text.replace("parentCID=ffffffff", 'parentCID=ffffffff\nparentFileNameHint="/etc/passwd"'),
        "vmdk_parent",
      ],
      [
        "type",
        (text) => text.replace('createType="monolithicSparse"', 'createType="twoGbMaxExtentFlat"'),
        "vmdk_create_type",
      ],
      [
        "two-extents",
        (text) => text.replace(/(RW \d+ SPARSE "[^"]*")/, '$1\nRW 2048 FLAT "other.vmdk" 0'),
        "vmdk_extent_count",
      ],
    ];
    for (const [name, transform, code] of cases) {
      const target = await qemuCreate(`${name}.vmdk`, "vmdk", "1M");
      await rewriteVmdkDescriptor(target, transform);
      expect(codes(await verdict(target)), name).toContain(code);
    }
  });

  it("checks a streamOptimized VMDK's footer against its header when the grain directory is at the end", async () => {
    // VMware's layout: the header says "grain directory at end"; the stream ends with a footer
    // marker, a footer (the header again, with the real offset) and an end-of-stream marker.
    const created = await readFile(await qemuCreate("stream.vmdk", "vmdk", "1M", ["-o", "subformat=streamOptimized"]));
    const header = Buffer.from(created.subarray(0, 512));
    const stream = Buffer.from(created);
    stream.writeBigUInt64LE(0xffffffffffffffffn, 56);
    const footerMarker = Buffer.alloc(512);
    footerMarker.writeUInt32LE(3, 12);
    const withFooter = (footer: Buffer) => Buffer.concat([stream, footerMarker, footer, Buffer.alloc(512)]);
    await writeFile(file("footer-ok.vmdk"), withFooter(header));
    expect(await verdict(file("footer-ok.vmdk"))).toMatchObject({
      format: "vmdk",
      safe: true,
      details: { footer: true },
    });
    await writeFile(file("footer-missing.vmdk"), stream);
    expect(codes(await verdict(file("footer-missing.vmdk")))).toContain("vmdk_footer_missing");
    const wrong = Buffer.from(header);
    wrong.writeBigUInt64LE(4096n, 12);
    await writeFile(file("footer-wrong.vmdk"), withFooter(wrong));
    expect(codes(await verdict(file("footer-wrong.vmdk")))).toContain("vmdk_footer_mismatch");

    // The markers' padding must be zero (qemu doesn't look; data hidden there is refused).
    const dirtyMarker = Buffer.from(footerMarker);
    dirtyMarker[300] = 0x41;
    await writeFile(
      file("footer-marker-padding.vmdk"),
      Buffer.concat([stream, dirtyMarker, header, Buffer.alloc(512)]),
    );
    const markerReport = await verdict(file("footer-marker-padding.vmdk"));
    expect(codes(markerReport)).toEqual(["vmdk_footer_marker_padding"]);
    expect(markerReport.problems[0]!.message).toMatch(
      /padding of the streamOptimized VMDK's footer marker is not zero/,
    );
    const dirtyEnd = Buffer.alloc(512);
    dirtyEnd[511] = 1;
    await writeFile(file("eos-padding.vmdk"), Buffer.concat([stream, footerMarker, header, dirtyEnd]));
    expect(codes(await verdict(file("eos-padding.vmdk")))).toEqual(["vmdk_end_marker_padding"]);
    const notEnd = Buffer.alloc(512);
    notEnd.writeUInt32LE(1, 12);
    await writeFile(file("eos-type.vmdk"), Buffer.concat([stream, footerMarker, header, notEnd]));
    expect(codes(await verdict(file("eos-type.vmdk")))).toEqual(["vmdk_end_marker"]);
  });

  it("refuses descriptor lines that are none of the known kinds, instead of skipping them as qemu does", async () => {
    const cases: [string, (text: string) => string, string, RegExp][] = [
      [
        "access",
        (text) => text.replace(/RW (\d+) SPARSE/, "RWX $1 SPARSE"),
        "vmdk_extent_access",
        /access mode “RWX” \(line \d+\), which qemu doesn't know; only RW, RDONLY and NOACCESS/,
      ],
      [
        "extent-type",
        (text) => text.replace(/SPARSE "/, 'SPARSEX "'),
        "vmdk_extent_unknown_type",
        /extent of type “SPARSEX”/,
      ],
      [
        "garbage",
        (text) => text.replace("# Extent description", "this is not a descriptor line"),
        "vmdk_descriptor_line",
        /neither a comment, a key = value setting nor an extent \(line \d+: “this is not/,
      ],
      [
        "unknown-key",
        (text) => text.replace("parentCID=ffffffff", 'parentCID=ffffffff\nfileName="/etc/passwd"'),
        "vmdk_unknown_key",
        /key “fileName”/,
      ],
      [
        "key-case",
        (text) => text.replace("parentCID=", "parentcid="),
        "vmdk_key_case",
        /spells the key parentCID as “parentcid”/,
      ],
      ["ddb-case", (text) => text.replace("ddb.adapterType", "DDB.adapterType"), "vmdk_key_case", /“DDB.adapterType”/],
      [
        "duplicate-key",
        (text) => text.replace("parentCID=ffffffff", "parentCID=ffffffff\nCID=12345678"),
        "vmdk_duplicate_key",
        /declares CID more than once/,
      ],
      ["bad-version", (text) => text.replace("version=1", "version=7"), "vmdk_key_value", /version has the value “7”/],
      [
        "unquoted-type",
        (text) => text.replace('createType="monolithicSparse"', "createType=monolithicSparse"),
        "vmdk_key_value",
        /createType has the value/,
      ],
      [
        "hint-in-comment",
        (text) => text.replace("# Disk DescriptorFile", '# parentFileNameHint="/etc/passwd"'),
        "vmdk_parent",
        /parentFileNameHint/,
      ],
      [
        "control-chars",
        (text) => text.replace("# Disk DescriptorFile", "# Disk\x01DescriptorFile"),
        "vmdk_descriptor_binary",
        /control characters/,
      ],
      [
        "extent-size",
        (text) => text.replace(/RW (\d+) SPARSE/, "RW 4096 SPARSE"),
        "vmdk_extent_size",
        /4096 sectors but the header says the disk has 2048/,
      ],
      [
        "stream-type",
        (text) => text.replace('createType="monolithicSparse"', 'createType="streamOptimized"'),
        "vmdk_create_type_mismatch",
        /says streamOptimized but its header describes a monolithicSparse disk/,
      ],
    ];
    for (const [name, transform, code, message] of cases) {
      const target = await qemuCreate(`line-${name}.vmdk`, "vmdk", "1M");
      await rewriteVmdkDescriptor(target, transform);
      const report = await verdict(target);
      expect(report.safe, name).toBe(false);
      expect(codes(report), name).toContain(code);
      expect(report.problems.find((item) => item.code === code)!.message, name).toMatch(message);
    }
    // What legitimate tools write: RDONLY extents (VMware's streamOptimized exports), encoding,
    // isNativeSnapshot, CRLF line ends, indentation, comments and ddb.* keys of any name.
    const fine = await qemuCreate("line-fine.vmdk", "vmdk", "1M");
    await rewriteVmdkDescriptor(fine, (text) =>
      text
        .replace(/RW (\d+) SPARSE/, "RDONLY $1 SPARSE")
        .replace("version=1", 'version=1\nencoding="UTF-8"\nisNativeSnapshot="no"')
        .replace(
          "#DDB",
          '#DDB\n  ddb.uuid.image = "6e2f1c41-0000-4000-8000-000000000001"\nddb.longContentID = "0123abcd"',
        )
        .replace(/\n/g, "\r\n"),
    );
    expect(await verdict(fine)).toMatchObject({ format: "vmdk", safe: true, problems: [] });
  });

  it.each([0, 4, 0x10001])("refuses sparse header version %i (qemu reads 1 to 3)", async (version) => {
    const target = await qemuCreate(`header-v${version}.vmdk`, "vmdk", "1M");
    await patch(target, 4, u32le(version));
    const report = await verdict(target);
    expect(codes(report)).toEqual(["vmdk_version"]);
    expect(report.problems[0]!.message).toMatch(new RegExp(`version ${version}; qemu reads only versions 1 to 3`));
  });

  it("accepts sparse header versions 1 to 3", async () => {
    for (const version of [1, 2, 3]) {
      const target = await qemuCreate(`header-ok-v${version}.vmdk`, "vmdk", "1M");
      await patch(target, 4, u32le(version));
      expect((await verdict(target)).safe, `version ${version}`).toBe(true);
    }
  });

  it("accepts a monolithicSparse VMDK with a 2 MiB descriptor, as qemu does, with bounded memory", async () => {
    const target = await vmdkWithDescriptor(
      "desc-2m.vmdk",
      (text) => `${text}${"# padding: a long descriptor is still a descriptor\n".repeat(40_000)}ddb.comment = "end"\n`,
      4096,
    );
    const { stdout } = await run("qemu-img", ["info", "--output=json", "-f", "vmdk", target]);
    const info = JSON.parse(stdout) as {
      "virtual-size": number;
      "format-specific": { data: { "create-type": string; extents: { filename: string }[] } };
    };
    expect(info["format-specific"].data["create-type"]).toBe("monolithicSparse");
    await run("qemu-img", ["check", "-f", "vmdk", target]);
    // qemu really uses the relocated tables: write through it and read the bytes back.
    await run("qemu-io", ["-f", "vmdk", "-c", "write -P 0xab 1M 64k", target]);
    const { stdout: read } = await run("qemu-io", ["-f", "vmdk", "-c", "read -P 0xab 1M 64k", target]);
    expect(read).not.toMatch(/Pattern verification failed/);
    const report = await verdict(target);
    expect(report).toMatchObject({
      format: "vmdk",
      safe: true,
      problems: [],
      virtualSize: info["virtual-size"],
      details: { createType: "monolithicSparse" },
    });
    for (const size of READ_SIZES) expect((await inspectAt(target, size)).retained).toBeLessThan(1.5 * 1024 * 1024);
    expect(await inspectFile({ path: target, claimedFormat: "vmdk" })).toMatchObject({ safe: true, problems: [] });

    // The same file with a bad line at its very end (beyond what qemu reads) is still refused.
    const tailLine = await vmdkWithDescriptor(
      "desc-2m-bad.vmdk",
      (text) => `${text}${"# padding\n".repeat(200_000)}RWX 2048 SPARSE "x.vmdk"\n`,
      4096,
    );
    expect(codes(await verdict(tailLine))).toContain("vmdk_extent_access");
    const tooBig = await qemuCreate("desc-too-big.vmdk", "vmdk", "1M");
    await patch(tooBig, 36, u64le(4097n));
    expect(codes(await verdict(tooBig))).toContain("vmdk_descriptor_size");
  });

  it("keeps memory bounded for a large embedded descriptor", async () => {
    const target = await qemuCreate("bigdesc.vmdk", "vmdk", "1M");
    await patch(target, 36, u64le(2048n));
    const report = await inspectAt(target, 4096);
    expect(report.retained).toBeLessThan(1.5 * 1024 * 1024);
  });
});

describe("vhd, vhdx, vdi", () => {
  it("refuses a VHD with a bad checksum, at the start and at the end", async () => {
    const dynamic = await qemuCreate("badsum.vhd", "vpc", "1M");
    await patch(dynamic, 28, [0x78, 0x78, 0x78, 0x78]);
    expect(codes(await verdict(dynamic))).toContain("vhd_checksum");
    const fixed = await qemuCreate("badsum-fixed.vhd", "vpc", "1M", ["-o", "subformat=fixed"]);
    await patch(fixed, (await stat(fixed)).size - 512 + 28, [0x78, 0x78, 0x78, 0x78]);
    expect(codes(await verdict(fixed))).toContain("vhd_checksum");
  });

  it("refuses a differencing VHD even with a correct checksum", async () => {
    const target = await qemuCreate("diff.vhd", "vpc", "1M");
    await patch(target, 60, u32be(4));
    await vhdFixChecksum(target, 0);
    const report = await verdict(target);
    expect(codes(report)).toEqual(["vhd_differencing"]);
  });

  async function vhdxMetadataItemOffset(target: string, itemGuidBytes: Buffer): Promise<number> {
    const data = await readFile(target);
    const count = data.readUInt32LE(0x30000 + 8);
    for (let index = 0; index < count; index += 1) {
      const at = 0x30000 + 16 + index * 32;
      if (data.subarray(at, at + 16).equals(Buffer.from("06a27c8b90479a4bb8fe575f050f886e", "hex"))) {
        const region = Number(data.readBigUInt64LE(at + 16));
        const entries = data.readUInt16LE(region + 10);
        for (let item = 0; item < entries; item += 1) {
          const entry = region + 32 + item * 32;
          if (data.subarray(entry, entry + 16).equals(itemGuidBytes)) return region + data.readUInt32LE(entry + 16);
        }
      }
    }
    throw new Error("metadata item not found");
  }

  it("refuses a VHDX with a parent, a parent locator, a bad region table, or an unreplayed log", async () => {
    const parent = await qemuCreate("parent.vhdx", "vhdx", "1M");
    const fileParameters = await vhdxMetadataItemOffset(parent, Buffer.from("3767a1ca36fa434db3b633f0aa44e76b", "hex"));
    await patch(parent, fileParameters + 4, [2, 0, 0, 0]);
    expect(codes(await verdict(parent))).toContain("vhdx_has_parent");

    const locator = await qemuCreate("locator.vhdx", "vhdx", "1M");
    const sizeItem = Buffer.from("2442a52f1bcd7648b2115dbed83bf4b8", "hex");
    const data = await readFile(locator);
    const at = data.indexOf(sizeItem);
    data.set(Buffer.from("2d5fd3a80bb34d45abf7d3d84834ab0c", "hex"), at);
    await writeFile(locator, data);
    expect(codes(await verdict(locator))).toContain("vhdx_parent_locator");

    const region = await qemuCreate("region.vhdx", "vhdx", "1M");
    await patch(region, 0x30000, Buffer.from("rego"));
    await patch(region, 0x40000, Buffer.from("rego"));
    expect(codes(await verdict(region))).toContain("vhdx_region_table");
    const count = await qemuCreate("count.vhdx", "vhdx", "1M");
    await patch(count, 0x30000 + 8, [0xff, 0xff, 0, 0]);
    expect(codes(await verdict(count))).toContain("vhdx_region_table");

    const log = await qemuCreate("log.vhdx", "vhdx", "1M");
    await patch(log, 0x10000 + 48, Array(16).fill(7));
    await patch(log, 0x20000 + 48, Array(16).fill(7));
    expect(codes(await verdict(log))).toContain("vhdx_log");
  });

  it("refuses a VDI with a parent or link UUID", async () => {
    const target = await qemuCreate("parent.vdi", "vdi", "1M");
    await patch(target, 0x1b8, Array(16).fill(0xab));
    expect(codes(await verdict(target))).toContain("vdi_parent");
  });
});

describe("polyglots, banned formats and false claims", () => {
  it("refuses an ISO carrying a qcow2 header in its system area", async () => {
    const target = file("polyglot.iso");
    await run("genisoimage", ["-quiet", "-o", target, "/etc/hostname"]);
    const qcow2 = await readFile(await qemuCreate("for-iso.qcow2", "qcow2", "1M"));
    await patch(target, 0, qcow2.subarray(0, 512));
    const report = await verdict(target);
    expect(codes(report)).toContain("polyglot");
    expect(report.problems.find((problem) => problem.code === "polyglot")!.message).toMatch(/qcow2, iso|iso, qcow2/);
  });

  it.each([
    ["volume space size", 0x8000 + 84, u32be(999_999)],
    ["logical block size", 0x8000 + 130, [0x02, 0x00]],
    ["volume set size", 0x8000 + 122, [0x00, 0x02]],
    ["path table size", 0x8000 + 136, u32be(4096)],
    ["root directory location", 0x8000 + 162, u32be(7)],
  ])("refuses an ISO whose primary volume descriptor disagrees with itself on the %s", async (field, offset, bytes) => {
    const target = file(`both-endian-${offset}.iso`);
    await run("genisoimage", ["-quiet", "-o", target, "/etc/hostname"]);
    expect((await verdict(target)).safe).toBe(true);
    await patch(target, offset, bytes);
    const report = await verdict(target);
    expect(report).toMatchObject({ format: "iso", safe: false });
    expect(codes(report)).toEqual(["iso_both_endian"]);
    expect(report.problems[0]!.message).toMatch(
      new RegExp(`stores its ${field} twice with different values \\(\\d+ little-endian, \\d+ big-endian\\)`),
    );
  });

  it("refuses QED and LUKS", async () => {
    expect(await verdict(await qemuCreate("a.qed", "qed", "1M"))).toMatchObject({ format: "qed", safe: false });
    await writeFile(
      file("luks.img"),
      Buffer.concat([Buffer.from("LUKS\xba\xbe\x00\x01", "latin1"), Buffer.alloc(8192)]),
    );
    const report = await verdict(file("luks.img"));
    expect(report).toMatchObject({ format: "luks", safe: false });
    expect(report.problems[0]!.message).toMatch(/LUKS-encrypted/);
  });

  it("refuses a file claimed raw that is really qcow2 or vmdk", async () => {
    for (const format of ["qcow2", "vmdk"]) {
      const report = await verdict(await qemuCreate(`claimed-raw.${format}`, format, "1M"), "raw");
      expect(report.safe).toBe(false);
      expect(report.problems.map((problem) => problem.message).join(" ")).toMatch(
        new RegExp(`claims to be raw but is a ${format} image`),
      );
    }
  });

  it("refuses zeros claimed to be qcow2, and an empty file", async () => {
    await writeFile(file("zeros.img"), Buffer.alloc(1024 * 1024));
    const zeros = await verdict(file("zeros.img"), "qcow2");
    expect(zeros).toMatchObject({ format: "raw", safe: false });
    expect(zeros.problems[0]!.message).toMatch(/claims to be qcow2 but is raw data with no qcow2 header/);
    await writeFile(file("empty.img"), "");
    expect(codes(await verdict(file("empty.img")))).toEqual(["empty"]);
  });

  it("treats a raw disk with a GPT as raw, whatever is inside its filesystem", async () => {
    const target = file("gpt.raw");
    await run("truncate", ["-s", "4M", target]);
    await run("sgdisk", ["-n", "1:2048:0", "-t", "1:8300", target]);
    await patch(target, 2 * 1024 * 1024, Buffer.from('createType="monolithicFlat"\n'));
    const report = await verdict(target);
    expect(report).toMatchObject({ format: "raw", safe: true, details: { partitionTable: "gpt" } });
  });
});

/** One 16-byte MBR partition entry. */
function mbrEntry({
  boot = 0,
  chs = [0, 2, 0],
  type,
  start,
  sectors,
}: {
  boot?: number;
  chs?: number[];
  type: number;
  start: number;
  sectors: number;
}) {
  const entry = Buffer.alloc(16);
  entry[0] = boot;
  entry.set(chs, 1);
  entry[4] = type;
  entry.set([0xff, 0xff, 0xff], 5);
  entry.writeUInt32LE(start, 8);
  entry.writeUInt32LE(sectors, 12);
  return entry;
}

describe("MBR and GPT partition tables (as OpenStack's GPT inspector, and more)", () => {
  async function rawDisk(name: string, ...commands: string[][]) {
    const target = file(name);
    await run("truncate", ["-s", "2M", target]);
    for (const [command, ...args] of commands) await run(command!, [...args, target]);
    return target;
  }

  it("accepts real partitioned and unpartitioned raw disks", async () => {
    const sfdisk = await rawDisk("sfdisk.raw");
    await new Promise<void>((resolve, reject) => {
      const child = execFile("sfdisk", ["-q", sfdisk], (error) => (error ? reject(error) : resolve()));
      child.stdin!.end("label: dos\nstart=2048, size=1024, type=83, bootable\nstart=3072, type=82\n");
    });
    const cases: [string, string | null][] = [
      [sfdisk, "mbr"],
      [await rawDisk("sgdisk.raw", ["sgdisk", "-n", "1:2048:+512K", "-n", "2:0:0", "-t", "1:ef00"]), "gpt"],
      [await rawDisk("ext4.raw", ["mkfs.ext4", "-q", "-F"]), null],
      [await rawDisk("vfat.raw", ["mkfs.vfat"]), null],
    ];
    for (const command of [
      ["mklabel", "msdos", "mkpart", "primary", "ext4", "1MiB", "1536KiB"],
      ["mklabel", "gpt", "mkpart", "root", "ext4", "1MiB", "1536KiB"],
    ]) {
      const target = file(`parted-${command[1]}.raw`);
      await run("truncate", ["-s", "2M", target]);
      await run("parted", ["-s", target, ...command]);
      cases.push([target, command[1] === "gpt" ? "gpt" : "mbr"]);
    }
    for (const [target, table] of cases) {
      const report = await verdict(target);
      expect(report, target).toMatchObject({
        format: "raw",
        safe: true,
        problems: [],
        details: { partitionTable: table },
      });
      expect((await inspectFile({ path: target, claimedFormat: "raw" })).safe, target).toBe(true);
    }
  });

  it.each([
    [
      "a 55AA signature with no partition at all",
      [],
      "mbr_empty",
      /55AA boot signature but its partition table has no partition at all/,
    ],
    [
      "a boot flag other than 0x00 or 0x80",
      [mbrEntry({ boot: 0x12, type: 0x83, start: 2048, sectors: 4096 })],
      "mbr_boot_flag",
      /boot flag 0x12/,
    ],
    [
      "a protective entry with boot flag 0x80",
      [mbrEntry({ boot: 0x80, type: 0xee, start: 1, sectors: 16383 })],
      "gpt_protective_mbr",
      /protective MBR entry has the boot flag 0x80/,
    ],
    [
      "a protective entry with CHS (0,1,0)",
      [mbrEntry({ chs: [0, 1, 0], type: 0xee, start: 1, sectors: 16383 })],
      "gpt_protective_mbr",
      /CHS \(0,1,0\) instead of \(0,2,0\)/,
    ],
    [
      "a protective entry at LBA 2",
      [mbrEntry({ type: 0xee, start: 2, sectors: 16383 })],
      "gpt_protective_mbr",
      /starts at LBA 2 instead of 1/,
    ],
    [
      "a protective entry beside another partition",
      [mbrEntry({ type: 0xee, start: 1, sectors: 2047 }), mbrEntry({ type: 0x83, start: 2048, sectors: 4096 })],
      "gpt_protective_mbr",
      /hybrid MBR/,
    ],
    [
      "a partition over the MBR itself",
      [mbrEntry({ type: 0x83, start: 0, sectors: 4096 })],
      "mbr_partition",
      /starts at sector 0/,
    ],
  ])("refuses a raw disk with %s", async (label, entries, code, message) => {
    const target = await rawDisk(`mbr-${code}-${label.length}.raw`, ["sgdisk", "-n", "1:2048:0"]);
    const table = Buffer.alloc(66);
    entries.forEach((entry, index) => entry.copy(table, index * 16));
    table.set([0x55, 0xaa], 64);
    await patch(target, 446, table);
    const report = await verdict(target);
    expect(report).toMatchObject({ format: "raw", safe: false });
    expect(codes(report)).toContain(code);
    expect(report.problems.find((item) => item.code === code)!.message).toMatch(message);
    expect(codes(await verdict(target, "raw"))).toContain(code);
  });

  it("refuses a protective MBR with no GPT header behind it", async () => {
    const target = await rawDisk("pmbr-only.raw", ["sgdisk", "-n", "1:2048:0"]);
    await patch(target, 512, Buffer.alloc(512));
    expect(codes(await verdict(target))).toEqual(["gpt_header_missing"]);
  });

  it.each([
    ["qcow2", "qcow2"],
    ["vmdk", "vmdk"],
    ["vdi", "vdi"],
    ["vhdx", "vhdx"],
    ["vpc", "vhd"],
  ] as const)("refuses a %s header whose first sector also carries an MBR", async (qemu, format) => {
    const target = await qemuCreate(`polyglot-mbr.${qemu}`, qemu, "8M");
    // VDI's header runs on past byte 446 (its parent UUID), so it gets the signature alone.
    if (qemu !== "vdi") await patch(target, 446, mbrEntry({ type: 0xee, start: 1, sectors: 16383 }));
    await patch(target, 510, [0x55, 0xaa]);
    if (qemu === "vpc") await vhdFixChecksum(target, 0);
    const report = await verdict(target);
    expect(report).toMatchObject({ format, safe: false });
    expect(codes(report)).toEqual(["polyglot_mbr"]);
    expect(report.problems[0]!.message).toMatch(
      new RegExp(`${format} image whose first sector also carries an MBR boot signature`),
    );
  });

  it("accepts a fixed VHD of a partitioned disk (its first sector is the guest's MBR)", async () => {
    const source = await rawDisk("to-vhd.raw", ["sgdisk", "-n", "1:2048:0"]);
    const target = file("partitioned-fixed.vhd");
    await run("qemu-img", ["convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", source, target]);
    expect(await verdict(target)).toMatchObject({ format: "vhd", safe: true, problems: [] });
  });

  it("keeps ISO hybrids with an MBR or a GPT as ISO", async () => {
    const isohybrid = file("isohybrid.iso");
    await run("genisoimage", ["-quiet", "-o", isohybrid, "/etc/hostname"]);
    await patch(
      isohybrid,
      446,
      Buffer.concat([
        mbrEntry({ boot: 0x80, chs: [0, 1, 0], type: 0x17, start: 0, sectors: 200 }),
        Buffer.alloc(48),
        Buffer.from([0x55, 0xaa]),
      ]),
    );
    expect(await verdict(isohybrid)).toMatchObject({ format: "iso", safe: true, problems: [] });
    const gpt = file("gpt-hybrid.iso");
    await run("genisoimage", ["-quiet", "-o", gpt, "/etc/hostname"]);
    await patch(
      gpt,
      446,
      Buffer.concat([mbrEntry({ type: 0xee, start: 1, sectors: 200 }), Buffer.alloc(48), Buffer.from([0x55, 0xaa])]),
    );
    await patch(gpt, 512, Buffer.from("EFI PART"));
    expect(await verdict(gpt)).toMatchObject({ format: "iso", safe: true, problems: [] });
  });
});

describe("memory", () => {
  it("keeps under 512 KiB however large the file", async () => {
    const target = file("big.raw");
    const handle = await open(target, "w");
    const block = Buffer.alloc(1024 * 1024, 0x5a);
    for (let index = 0; index < 64; index += 1) await handle.write(block);
    await handle.close();
    const report = await inspectAt(target, 1024 * 1024);
    expect(report.format).toBe("raw");
    expect(report.retained).toBeLessThan(512 * 1024);
  });
});
