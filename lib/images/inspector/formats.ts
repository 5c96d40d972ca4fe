// Per-format rules from Hangar's image-safety spec. Each parser recognises its format from the
// collected evidence (or returns null) and lists every reason to refuse it.
import type { CaptureRequest } from "./index";
import type { Evidence, FormatFinding, InspectedFormat, InspectionProblem } from "./types";
import { VMDK_MAX_DESCRIPTOR_BYTES } from "./vmdk-descriptor";

const ascii = (bytes: Uint8Array, start: number, length: number) =>
  start + length <= bytes.length ? String.fromCharCode(...bytes.subarray(start, start + length)) : "";

function view(bytes: Uint8Array) {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (offset: number, size: number) => offset >= 0 && offset + size <= bytes.length;
  const big = (value: bigint) => (value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value));
  return {
    has,
    u8: (offset: number) => (has(offset, 1) ? data.getUint8(offset) : 0),
    u16le: (offset: number) => (has(offset, 2) ? data.getUint16(offset, true) : 0),
    u16be: (offset: number) => (has(offset, 2) ? data.getUint16(offset, false) : 0),
    u32le: (offset: number) => (has(offset, 4) ? data.getUint32(offset, true) : 0),
    u32be: (offset: number) => (has(offset, 4) ? data.getUint32(offset, false) : 0),
    u64le: (offset: number) => (has(offset, 8) ? big(data.getBigUint64(offset, true)) : 0),
    u64be: (offset: number) => (has(offset, 8) ? big(data.getBigUint64(offset, false)) : 0),
    u64leRaw: (offset: number) => (has(offset, 8) ? data.getBigUint64(offset, true) : 0n),
  };
}

const problem = (code: string, message: string): InspectionProblem => ({ code, message });
const isZero = (bytes: Uint8Array) => bytes.every((byte) => byte === 0);

export const problemMessages = {
  banned: (format: InspectedFormat) =>
    format === "qed"
      ? "The file is a QED image. QED is not accepted (it is obsolete and can reference other files); convert it to qcow2 with qemu-img convert -f qed -O qcow2."
      : "The file is a LUKS-encrypted volume. Encrypted images can't be inspected and are not accepted; upload the decrypted disk image.",
  mismatch: (claimed: string, finding: FormatFinding) => {
    const actual =
      finding.format === "vmdk" && finding.details.textDescriptor
        ? "a VMDK descriptor that points at another file"
        : finding.format === "raw"
          ? `raw data with no ${claimed} header`
          : `a ${finding.format} image`;
    return `The file claims to be ${claimed} but is ${actual}. Choose the format it really is (or Detect), or export it again as ${claimed}.`;
  },
};

// ---------------------------------------------------------------- qcow2 (big-endian)

const QCOW2_INCOMPAT_DIRTY = 1n << 0n;
const QCOW2_INCOMPAT_CORRUPT = 1n << 1n;
const QCOW2_INCOMPAT_DATA_FILE = 1n << 2n;
const QCOW2_INCOMPAT_COMPRESSION = 1n << 3n;
const QCOW2_EXT_DATA_FILE = 0x44415441;
const QCOW2_EXT_BACKING_FORMAT = 0xe2792aca;

function qcow2(evidence: Evidence): FormatFinding | null {
  const { head } = evidence;
  if (ascii(head, 0, 4) !== "QFI\xfb") return null;
  const bytes = view(head);
  const problems: InspectionProblem[] = [];
  const version = bytes.u32be(4);
  const details: Record<string, unknown> = { version };
  const refuse = (code: string, message: string) => problems.push(problem(code, message));
  if (version !== 2 && version !== 3) {
    refuse(
      "qcow2_version",
      `The file is a qcow2 image of version ${version}; only versions 2 and 3 are accepted. Convert it with qemu-img convert -O qcow2.`,
    );
    return { format: "qcow2", virtualSize: null, problems, details };
  }
  const headerLength = version === 3 ? bytes.u32be(100) : 72;
  if (evidence.fileSize < (version === 3 ? 104 : 72) || (version === 3 && evidence.fileSize < headerLength)) {
    refuse("qcow2_truncated", "The qcow2 header is truncated: the file ends inside it. Upload the complete file.");
    return { format: "qcow2", virtualSize: null, problems, details };
  }
  const backingOffset = bytes.u64be(8);
  if (backingOffset !== 0) {
    const size = bytes.u32be(16);
    const name = backingOffset + size <= head.length ? ascii(head, backingOffset, Math.min(size, 1024)) : "";
    details.backingFile = name;
    refuse(
      "qcow2_backing_file",
      `The file is a qcow2 image with a backing file${name ? ` (${name})` : ""}. Hangar only accepts self-contained images: flatten it with qemu-img convert -O qcow2 first.`,
    );
  }
  const clusterBits = bytes.u32be(20);
  const virtualSize = bytes.u64be(24);
  details.clusterBits = clusterBits;
  if (clusterBits < 9 || clusterBits > 21)
    refuse(
      "qcow2_cluster_bits",
      `The qcow2 header has an impossible cluster size (2^${clusterBits} bytes); the file is malformed.`,
    );
  if (bytes.u32be(32) !== 0)
    refuse(
      "qcow2_encrypted",
      "The qcow2 image is encrypted. Encrypted images can't be inspected; upload it decrypted.",
    );
  const l1Size = bytes.u32be(36);
  if (l1Size > (32 * 1024 * 1024) / 8)
    refuse("qcow2_l1_size", "The qcow2 L1 table is larger than qemu allows; the file is malformed.");
  if (clusterBits >= 9 && clusterBits <= 21) {
    const perL1 = 2 ** clusterBits * (2 ** clusterBits / 8);
    if (l1Size < Math.ceil(virtualSize / perL1))
      refuse("qcow2_l1_too_small", "The qcow2 L1 table is too small for the disk's size; the file is malformed.");
  }
  if (version === 3) {
    const incompatible = bytes.has(72, 8) ? new DataView(head.buffer, head.byteOffset).getBigUint64(72, false) : 0n;
    details.incompatibleFeatures = `0x${incompatible.toString(16)}`;
    if (incompatible & QCOW2_INCOMPAT_DATA_FILE)
      refuse(
        "qcow2_data_file",
        "The qcow2 image keeps its data in an external file. Hangar only accepts self-contained images: convert it with qemu-img convert -O qcow2.",
      );
    if (incompatible & QCOW2_INCOMPAT_CORRUPT)
      refuse(
        "qcow2_corrupt",
        "The qcow2 image is marked corrupt. Repair it with qemu-img check -r all, then upload it again.",
      );
    const unknown =
      incompatible &
      ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION);
    if (unknown)
      refuse(
        "qcow2_unknown_features",
        `The qcow2 image uses features Hangar does not know (incompatible bits 0x${unknown.toString(16)}). Convert it with qemu-img convert -O qcow2 -o compat=1.1.`,
      );
  }
  // Header extensions: bounded by the first cluster and by what we kept of the head.
  const clusterEnd = Math.min(clusterBits >= 9 && clusterBits <= 21 ? 2 ** clusterBits : 65536, head.length);
  let offset = headerLength;
  for (let count = 0; count < 1024 && offset + 8 <= clusterEnd; count += 1) {
    const type = bytes.u32be(offset);
    const length = bytes.u32be(offset + 4);
    if (type === 0) break;
    if (type === QCOW2_EXT_DATA_FILE)
      refuse(
        "qcow2_data_file_name",
        "The qcow2 image names an external data file. Hangar only accepts self-contained images.",
      );
    if (type === QCOW2_EXT_BACKING_FORMAT && backingOffset === 0)
      refuse(
        "qcow2_backing_format",
        "The qcow2 image declares a backing format, so it depends on another file. Flatten it with qemu-img convert -O qcow2 first.",
      );
    offset += 8 + Math.ceil(length / 8) * 8;
  }
  return { format: "qcow2", virtualSize, problems, details };
}

// ---------------------------------------------------------------- VMDK (little-endian)

const VMDK_GD_AT_END = 0xffffffffffffffffn;
const VMDK_MARKER_FOOTER = 3;
const VMDK_MARKER_END_OF_STREAM = 0;
const VMDK_COMPRESSION_DEFLATE = 1;

interface VmdkHeader {
  version: number;
  capacity: number;
  grainSize: number;
  descriptorOffset: number;
  descriptorSize: number;
  gdOffset: bigint;
  compressAlgorithm: number;
}

function vmdkHeader(bytes: Uint8Array, at = 0): VmdkHeader | null {
  if (ascii(bytes, at, 4) !== "KDMV") return null;
  const data = view(bytes);
  return {
    version: data.u32le(at + 4),
    capacity: data.u64le(at + 12),
    grainSize: data.u64le(at + 20),
    descriptorOffset: data.u64le(at + 28),
    descriptorSize: data.u64le(at + 36),
    gdOffset: data.u64leRaw(at + 56),
    compressAlgorithm: data.u16le(at + 77),
  };
}

/** Where the embedded descriptor of a sparse VMDK lies, when its header makes it one we read. */
export function vmdkDescriptorRegion(
  head: Uint8Array,
): { start: number; length: number; capacitySectors: number } | null {
  const header = vmdkHeader(head);
  if (!header || header.descriptorOffset !== 1 || header.descriptorSize === 0) return null;
  if (header.descriptorSize * 512 > VMDK_MAX_DESCRIPTOR_BYTES) return null;
  return { start: 512, length: header.descriptorSize * 512, capacitySectors: header.capacity };
}

/** A stream marker sector (footer or end-of-stream): value, size, type, then 496 bytes of zero padding. */
function vmdkMarker(bytes: Uint8Array, at: number) {
  const data = view(bytes);
  return {
    value: data.u64leRaw(at),
    size: data.u32le(at + 8),
    type: data.u32le(at + 12),
    paddingZero: isZero(bytes.subarray(at + 16, at + 512)),
  };
}

function checkVmdkFooter(
  evidence: Evidence,
  header: VmdkHeader,
  problems: InspectionProblem[],
  details: Record<string, unknown>,
): VmdkHeader {
  // streamOptimized with the grain directory at the end: the stream ends with a footer marker, a
  // footer (the header again, with the real offsets) and an end-of-stream marker. qemu reads them
  // at 1536 bytes before the end and then uses the footer instead of the header.
  const { tail, fileSize } = evidence;
  const footer = tail.length >= 1536 ? vmdkHeader(tail, tail.length - 1024) : null;
  details.footer = Boolean(footer);
  if (!footer) {
    problems.push(
      problem(
        "vmdk_footer_missing",
        "The streamOptimized VMDK has no footer at its end: the file is truncated or damaged. Upload the complete file.",
      ),
    );
    return header;
  }
  if (fileSize % 512 !== 0) {
    problems.push(
      problem(
        "vmdk_footer_misaligned",
        `The streamOptimized VMDK is ${fileSize} bytes long, not a whole number of 512-byte sectors, so its footer is not where qemu looks for it; the file is damaged.`,
      ),
    );
  }
  if (
    footer.version !== header.version ||
    footer.capacity !== header.capacity ||
    footer.grainSize !== header.grainSize ||
    footer.descriptorOffset !== header.descriptorOffset ||
    footer.descriptorSize !== header.descriptorSize ||
    footer.gdOffset === VMDK_GD_AT_END
  ) {
    problems.push(
      problem(
        "vmdk_footer_mismatch",
        "The streamOptimized VMDK's footer does not match its header; the file is damaged or crafted.",
      ),
    );
  }
  const footerMarker = vmdkMarker(tail, tail.length - 1536);
  if (footerMarker.size !== 0 || footerMarker.type !== VMDK_MARKER_FOOTER) {
    problems.push(
      problem(
        "vmdk_footer_marker",
        "The streamOptimized VMDK's footer is not preceded by a footer marker; the file is damaged or crafted.",
      ),
    );
  } else if (!footerMarker.paddingZero) {
    problems.push(
      problem(
        "vmdk_footer_marker_padding",
        "The padding of the streamOptimized VMDK's footer marker is not zero; the file is damaged or hides data there, so it is refused.",
      ),
    );
  }
  const endMarker = vmdkMarker(tail, tail.length - 512);
  if (endMarker.value !== 0n || endMarker.size !== 0 || endMarker.type !== VMDK_MARKER_END_OF_STREAM) {
    problems.push(
      problem(
        "vmdk_end_marker",
        "The streamOptimized VMDK does not end with an end-of-stream marker; the file is truncated or damaged.",
      ),
    );
  } else if (!endMarker.paddingZero) {
    problems.push(
      problem(
        "vmdk_end_marker_padding",
        "The padding of the streamOptimized VMDK's end-of-stream marker is not zero; the file is damaged or hides data there, so it is refused.",
      ),
    );
  }
  return footer;
}

function vmdk(evidence: Evidence): FormatFinding | null {
  const header = vmdkHeader(evidence.head);
  const problems: InspectionProblem[] = [];
  const details: Record<string, unknown> = {};
  if (!header) {
    // A text-only descriptor is a VMDK whose data lives elsewhere: always refused.
    if (!evidence.textDescriptor.isText || evidence.textDescriptor.createTypeLines.length === 0) return null;
    details.textDescriptor = true;
    details.createTypeLines = evidence.textDescriptor.createTypeLines;
    problems.push(
      problem(
        "vmdk_text_descriptor",
        "The file is a VMDK descriptor that points at another file, not a disk image. Upload the monolithic VMDK (or convert to a streamOptimized VMDK) instead.",
      ),
    );
    return { format: "vmdk", virtualSize: null, problems, details };
  }
  details.version = header.version;
  if (header.version < 1 || header.version > 3) {
    problems.push(
      problem(
        "vmdk_version",
        `The VMDK's sparse header has version ${header.version}; qemu reads only versions 1 to 3. Export the disk again as a monolithicSparse or streamOptimized VMDK.`,
      ),
    );
  }
  if (header.capacity === 0) {
    problems.push(
      problem(
        "vmdk_capacity_zero",
        "The VMDK header gives a capacity of 0, which makes qemu treat the embedded descriptor as a separate descriptor file; the file is refused.",
      ),
    );
  }
  const effective = header.gdOffset === VMDK_GD_AT_END ? checkVmdkFooter(evidence, header, problems, details) : header;
  if (header.descriptorOffset !== 1) {
    problems.push(
      problem(
        "vmdk_descriptor_offset",
        `The VMDK descriptor starts at sector ${header.descriptorOffset} instead of sector 1; the file is malformed or crafted.`,
      ),
    );
  } else if (header.descriptorSize === 0 || header.descriptorSize * 512 > VMDK_MAX_DESCRIPTOR_BYTES) {
    problems.push(
      problem(
        "vmdk_descriptor_size",
        `The VMDK header declares a descriptor of ${header.descriptorSize} sectors; it must be between 1 and ${VMDK_MAX_DESCRIPTOR_BYTES / 512} sectors (2 MiB). The file is malformed.`,
      ),
    );
  } else {
    const descriptor = evidence.vmdkDescriptor;
    if (!descriptor || descriptor.truncated) {
      problems.push(
        problem(
          "vmdk_descriptor_missing",
          "The VMDK descriptor could not be read: the file ends before it. Upload the complete file.",
        ),
      );
    } else {
      problems.push(...descriptor.problems);
      details.createType = descriptor.createType;
      details.extents = descriptor.extents.map(
        (extent) => `${extent.access} ${extent.sectors} ${extent.type} "${extent.fileName}"`,
      );
      // qemu names the type from the header alone (deflate-compressed grains: streamOptimized).
      const qemuType =
        effective.compressAlgorithm === VMDK_COMPRESSION_DEFLATE ? "streamOptimized" : "monolithicSparse";
      if (
        descriptor.createType &&
        ["monolithicSparse", "streamOptimized"].includes(descriptor.createType) &&
        descriptor.createType !== qemuType
      ) {
        problems.push(
          problem(
            "vmdk_create_type_mismatch",
            `The VMDK descriptor says ${descriptor.createType} but its header describes a ${qemuType} disk; tools would read it differently, so it is refused.`,
          ),
        );
      }
    }
  }
  return { format: "vmdk", virtualSize: effective.capacity * 512, problems, details };
}

// ---------------------------------------------------------------- VHD (big-endian footer)

function vhdFooter(bytes: Uint8Array, at: number) {
  if (ascii(bytes, at, 8) !== "conectix") return null;
  const footer = bytes.subarray(at, at + 512);
  if (footer.length < 512) return null;
  const data = view(footer);
  let sum = 0;
  footer.forEach((byte, index) => {
    if (index < 64 || index >= 68) sum += byte;
  });
  const expected = ~sum >>> 0;
  return {
    diskType: data.u32be(60),
    currentSize: data.u64be(48),
    checksumOk: expected === data.u32be(64),
    creator: ascii(footer, 28, 4),
  };
}

function vhd(evidence: Evidence): FormatFinding | null {
  const atHead = vhdFooter(evidence.head, 0);
  const atTail = evidence.tail.length >= 512 ? vhdFooter(evidence.tail, evidence.tail.length - 512) : null;
  const footer = atHead ?? atTail;
  if (!footer) return null;
  const problems: InspectionProblem[] = [];
  const details: Record<string, unknown> = {
    diskType: footer.diskType,
    creator: footer.creator,
    footerAt: atHead ? "start" : "end",
  };
  if (!footer.checksumOk)
    problems.push(problem("vhd_checksum", "The VHD footer's checksum is wrong; the file is damaged or crafted."));
  if (footer.diskType === 4)
    problems.push(
      problem(
        "vhd_differencing",
        "The VHD is a differencing disk that depends on a parent file. Upload a fixed or dynamic VHD (merge it first).",
      ),
    );
  else if (footer.diskType !== 2 && footer.diskType !== 3)
    problems.push(
      problem("vhd_disk_type", `The VHD has an unknown disk type (${footer.diskType}); the file is malformed.`),
    );
  if (atHead && footer.diskType === 2)
    problems.push(
      problem(
        "vhd_fixed_header",
        "The VHD says it is fixed but has a footer copy at its start, where fixed VHDs have none; the file is crafted.",
      ),
    );
  return { format: "vhd", virtualSize: footer.currentSize, problems, details };
}

// ---------------------------------------------------------------- VHDX (little-endian)

function guid(text: string): string {
  const hex = text.replace(/-/g, "").toLowerCase();
  const swap = (part: string) => part.match(/../g)!.reverse().join("");
  return swap(hex.slice(0, 8)) + swap(hex.slice(8, 12)) + swap(hex.slice(12, 16)) + hex.slice(16);
}
const hexOf = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

const VHDX_REGION_METADATA = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E");
const VHDX_REGION_BAT = guid("2DC27766-F623-4200-9D64-115E9BFD4A08");
const VHDX_FILE_PARAMETERS = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
const VHDX_VIRTUAL_DISK_SIZE = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
const VHDX_PARENT_LOCATOR = guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");
const VHDX_REGION_TABLE = 0x30000;

function vhdxMetadataRegion(head: Uint8Array): { offset: number; length: number } | { error: string } {
  if (head.length < VHDX_REGION_TABLE + 16) return { error: "truncated" };
  const data = view(head);
  if (ascii(head, VHDX_REGION_TABLE, 4) !== "regi") return { error: "signature" };
  const count = data.u32le(VHDX_REGION_TABLE + 8);
  if (count > 2047) return { error: "count" };
  let metadata: { offset: number; length: number } | null = null;
  for (let index = 0; index < count; index += 1) {
    const at = VHDX_REGION_TABLE + 16 + index * 32;
    if (!data.has(at, 32)) return { error: "truncated" };
    const id = hexOf(head.subarray(at, at + 16));
    const required = data.u32le(at + 28);
    if (id === VHDX_REGION_METADATA) metadata = { offset: data.u64le(at + 16), length: data.u32le(at + 24) };
    else if (id !== VHDX_REGION_BAT && required) return { error: "unknown-required" };
  }
  return metadata ?? { error: "no-metadata" };
}

function vhdx(evidence: Evidence, missed: string[]): FormatFinding | null {
  const { head } = evidence;
  if (ascii(head, 0, 8) !== "vhdxfile") return null;
  const problems: InspectionProblem[] = [];
  const details: Record<string, unknown> = {};
  const data = view(head);
  // Use the current header (higher sequence number) for the log check.
  const headers = [0x10000, 0x20000]
    .filter((at) => ascii(head, at, 4) === "head")
    .map((at) => ({ at, sequence: data.u64le(at + 8) }));
  const current = headers.sort((a, b) => b.sequence - a.sequence)[0];
  if (!current) problems.push(problem("vhdx_header", "The VHDX has no valid header; the file is damaged."));
  else if (!isZero(head.subarray(current.at + 48, current.at + 64))) {
    problems.push(
      problem(
        "vhdx_log",
        "The VHDX has a log that was never replayed, so its data is not final. Open and close it in Hyper-V (or qemu-img convert it), then upload it again.",
      ),
    );
  }
  const region = vhdxMetadataRegion(head);
  if ("error" in region) {
    problems.push(
      problem(
        "vhdx_region_table",
        "The VHDX region table is missing, malformed or lists unknown required regions; the file is damaged or crafted.",
      ),
    );
    return { format: "vhdx", virtualSize: null, problems, details };
  }
  const table = evidence.captures.get("vhdx-metadata-table");
  if (!table || missed.some((name) => name.startsWith("vhdx-"))) {
    problems.push(
      problem(
        "vhdx_metadata",
        "The VHDX metadata could not be read in order (it is missing or placed before the region table points); the file is refused.",
      ),
    );
    return { format: "vhdx", virtualSize: null, problems, details };
  }
  const items = vhdxMetadataItems(table);
  if (!items) {
    problems.push(problem("vhdx_metadata", "The VHDX metadata table is malformed."));
    return { format: "vhdx", virtualSize: null, problems, details };
  }
  let virtualSize: number | null = null;
  for (const item of items) {
    if (item.id === VHDX_PARENT_LOCATOR)
      problems.push(
        problem(
          "vhdx_parent_locator",
          "The VHDX is a differencing disk with a parent locator. Upload a self-contained VHDX (merge it first).",
        ),
      );
    const bytes = evidence.captures.get(`vhdx-item-${item.id}`);
    if (item.id === VHDX_FILE_PARAMETERS && bytes) {
      const flags = view(bytes).u32le(4);
      details.blockSize = view(bytes).u32le(0);
      if (flags & 2)
        problems.push(
          problem("vhdx_has_parent", "The VHDX says it has a parent disk (HasParent). Upload a self-contained VHDX."),
        );
    }
    if (item.id === VHDX_VIRTUAL_DISK_SIZE && bytes) virtualSize = view(bytes).u64le(0);
  }
  if (virtualSize === null)
    problems.push(problem("vhdx_no_size", "The VHDX metadata has no virtual disk size; the file is malformed."));
  return { format: "vhdx", virtualSize, problems, details };
}

function vhdxMetadataItems(table: Uint8Array): { id: string; offset: number; length: number }[] | null {
  if (ascii(table, 0, 8) !== "metadata") return null;
  const data = view(table);
  const count = data.u16le(10);
  if (count > 2047) return null;
  const items: { id: string; offset: number; length: number }[] = [];
  for (let index = 0; index < count; index += 1) {
    const at = 32 + index * 32;
    if (!data.has(at, 32)) return null;
    items.push({ id: hexOf(table.subarray(at, at + 16)), offset: data.u32le(at + 16), length: data.u32le(at + 20) });
  }
  return items;
}

// ---------------------------------------------------------------- VDI, ISO, QED, LUKS

function vdi(evidence: Evidence): FormatFinding | null {
  const data = view(evidence.head);
  if (data.u32le(0x40) !== 0xbeda107f) return null;
  const problems: InspectionProblem[] = [];
  const version = data.u32le(0x44);
  if (version !== 0x00010001)
    problems.push(
      problem(
        "vdi_version",
        `The VDI header has version 0x${version.toString(16)}; only 1.1 is accepted. Convert it with qemu-img convert -O vdi.`,
      ),
    );
  const link = evidence.head.subarray(0x1a8, 0x1b8);
  const parent = evidence.head.subarray(0x1b8, 0x1c8);
  if (link.length < 16 || parent.length < 16)
    problems.push(problem("vdi_truncated", "The VDI header is truncated. Upload the complete file."));
  else if (!isZero(link) || !isZero(parent))
    problems.push(
      problem(
        "vdi_parent",
        "The VDI is a differencing image linked to a parent. Upload a self-contained VDI (clone it to a standalone disk first).",
      ),
    );
  return { format: "vdi", virtualSize: data.u64le(0x170), problems, details: { version } };
}

// Both-endian fields of the primary volume descriptor (ISO 9660 §8.4): each is stored twice, little-
// endian then big-endian. Readers pick one copy or the other, so the two must agree.
const ISO_PVD = 0x8000;
const ISO_BOTH_ENDIAN_FIELDS = [
  { name: "volume space size", offset: 80, size: 4 },
  { name: "volume set size", offset: 120, size: 2 },
  { name: "volume sequence number", offset: 124, size: 2 },
  { name: "logical block size", offset: 128, size: 2 },
  { name: "path table size", offset: 132, size: 4 },
  { name: "root directory location", offset: 156 + 2, size: 4 },
  { name: "root directory length", offset: 156 + 10, size: 4 },
] as const;

function iso(evidence: Evidence): FormatFinding | null {
  const { head } = evidence;
  if (ascii(head, ISO_PVD + 1, 5) !== "CD001") return null;
  const data = view(head);
  const problems: InspectionProblem[] = [];
  if (data.u8(ISO_PVD) !== 1)
    problems.push(
      problem(
        "iso_descriptor",
        "The ISO's first volume descriptor is not a primary volume descriptor; the file is malformed.",
      ),
    );
  if (!data.has(ISO_PVD, 2048))
    problems.push(
      problem(
        "iso_truncated",
        "The ISO's primary volume descriptor is cut short: the file ends inside it. Upload the complete file.",
      ),
    );
  for (const field of ISO_BOTH_ENDIAN_FIELDS) {
    const at = ISO_PVD + field.offset;
    const little = field.size === 4 ? data.u32le(at) : data.u16le(at);
    const big = field.size === 4 ? data.u32be(at + 4) : data.u16be(at + 2);
    if (little !== big) {
      problems.push(
        problem(
          "iso_both_endian",
          `The ISO's primary volume descriptor stores its ${field.name} twice with different values (${little} little-endian, ${big} big-endian); tools would read different disks from it, so it is refused.`,
        ),
      );
    }
  }
  const blocks = data.u32le(ISO_PVD + 80);
  const blockSize = data.u16le(ISO_PVD + 128);
  if (![512, 1024, 2048].includes(blockSize)) {
    problems.push(
      problem(
        "iso_block_size",
        `The ISO's logical block size is ${blockSize} bytes; ISO 9660 allows 512, 1024 or 2048. The file is malformed.`,
      ),
    );
  }
  return { format: "iso", virtualSize: blocks * blockSize, problems, details: { blocks, blockSize } };
}

function banned(evidence: Evidence): FormatFinding | null {
  if (ascii(evidence.head, 0, 4) === "QED\0")
    return { format: "qed", virtualSize: view(evidence.head).u64le(48), problems: [], details: {} };
  if (ascii(evidence.head, 0, 6) === "LUKS\xba\xbe")
    return { format: "luks", virtualSize: null, problems: [], details: {} };
  return null;
}

// ---------------------------------------------------------------- MBR and GPT (little-endian)

const MBR_PARTITION_TABLE = 446;
const MBR_GPT_PROTECTIVE = 0xee;

export const hasMbrSignature = (head: Uint8Array) => head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa;

/** A filesystem's own boot sector (no partition table) also ends in 55AA: FAT, NTFS, exFAT. */
function isFilesystemBootSector(head: Uint8Array): boolean {
  const fat = head[0x10] === 2 && head[0x15] === 0xf8;
  const oem = ascii(head, 3, 8);
  return fat || oem === "NTFS    " || oem === "EXFAT   ";
}

/**
 * The checks OpenStack's GPT inspector makes on a raw disk whose first sector ends in 55AA, plus a
 * few more: every entry's boot flag is 0 or 0x80; a protective MBR is one 0xEE entry, first, with
 * boot flag 0, starting at LBA 1 with CHS (0,2,0), and a GPT header behind it; an MBR without a
 * single partition is not a partition table but something made to look like one.
 */
/** What partitions the first sectors describe: a GPT, an MBR, or none (a filesystem's boot sector is none). */
export function partitionTableKind(head: Uint8Array): "gpt" | "mbr" | null {
  if (!hasMbrSignature(head) || isFilesystemBootSector(head)) return null;
  return ascii(head, 512, 8) === "EFI PART" || ascii(head, 4096, 8) === "EFI PART" ? "gpt" : "mbr";
}

export function partitionTableProblems(head: Uint8Array): InspectionProblem[] {
  if (!hasMbrSignature(head) || isFilesystemBootSector(head)) return [];
  const data = view(head);
  const problems: InspectionProblem[] = [];
  const used: number[] = [];
  let protective: number | null = null;
  for (let index = 0; index < 4; index += 1) {
    const at = MBR_PARTITION_TABLE + index * 16;
    const boot = data.u8(at);
    const type = data.u8(at + 4);
    const startLba = data.u32le(at + 8);
    const sectors = data.u32le(at + 12);
    if (boot !== 0x00 && boot !== 0x80) {
      problems.push(
        problem(
          "mbr_boot_flag",
          `The disk's MBR partition entry ${index + 1} has the boot flag 0x${boot.toString(16)}; only 0x00 and 0x80 exist, so the partition table is malformed or crafted.`,
        ),
      );
    }
    if (type === 0) continue;
    used.push(index);
    if (type === MBR_GPT_PROTECTIVE) {
      protective = index;
      const chs = [data.u8(at + 1), data.u8(at + 2), data.u8(at + 3)];
      if (boot !== 0)
        problems.push(
          problem(
            "gpt_protective_mbr",
            `The disk's protective MBR entry has the boot flag 0x${boot.toString(16)}; a protective MBR's must be 0.`,
          ),
        );
      if (chs.join(",") !== "0,2,0")
        problems.push(
          problem(
            "gpt_protective_mbr",
            `The disk's protective MBR entry starts at CHS (${chs.join(",")}) instead of (0,2,0); the partition table is malformed or crafted.`,
          ),
        );
      if (startLba !== 1)
        problems.push(
          problem(
            "gpt_protective_mbr",
            `The disk's protective MBR entry starts at LBA ${startLba} instead of 1; the partition table is malformed or crafted.`,
          ),
        );
    } else if (startLba === 0 || sectors === 0) {
      problems.push(
        problem(
          "mbr_partition",
          `The disk's MBR partition entry ${index + 1} ${startLba === 0 ? "starts at sector 0, over the MBR itself" : "has no sectors"}; the partition table is malformed or crafted.`,
        ),
      );
    }
  }
  if (used.length === 0) {
    problems.push(
      problem(
        "mbr_empty",
        "The disk's first sector ends with the 55AA boot signature but its partition table has no partition at all; such a sector is made to look like an MBR, so the file is refused. Upload the disk with a real partition table, or without an MBR.",
      ),
    );
  } else if (protective !== null) {
    if (used.length !== 1 || protective !== 0) {
      problems.push(
        problem(
          "gpt_protective_mbr",
          "The disk's protective MBR lists other partitions beside the GPT one (a hybrid MBR), so tools would see different partitions; the file is refused.",
        ),
      );
    }
    if (ascii(head, 512, 8) !== "EFI PART" && ascii(head, 4096, 8) !== "EFI PART") {
      problems.push(
        problem(
          "gpt_header_missing",
          "The disk has a protective MBR but no GPT header after it; the partition table is malformed or crafted.",
        ),
      );
    }
  }
  return problems;
}

// ---------------------------------------------------------------- capture planning and detection

export function planCaptures({
  head,
  captures,
  completed,
}: {
  head: Uint8Array;
  captures: ReadonlyMap<string, Uint8Array>;
  completed: string | null;
}): CaptureRequest[] {
  if (completed === null) {
    const requests: CaptureRequest[] = [];
    if (ascii(head, 0, 8) === "vhdxfile") {
      const region = vhdxMetadataRegion(head);
      if (!("error" in region)) requests.push({ name: "vhdx-metadata-table", start: region.offset, length: 64 * 1024 });
    }
    return requests;
  }
  if (completed === "vhdx-metadata-table") {
    const region = vhdxMetadataRegion(head);
    const items = vhdxMetadataItems(captures.get(completed)!);
    if ("error" in region || !items) return [];
    return items
      .filter(
        (item) =>
          [VHDX_FILE_PARAMETERS, VHDX_VIRTUAL_DISK_SIZE].includes(item.id) &&
          item.offset >= 64 * 1024 &&
          item.length > 0 &&
          item.length <= 64,
      )
      .map((item) => ({ name: `vhdx-item-${item.id}`, start: region.offset + item.offset, length: item.length }));
  }
  return [];
}

/** Every format whose signature the bytes carry; more than one makes the file a polyglot. */
export function findingFor(evidence: Evidence, missed: string[]): FormatFinding[] {
  return [
    qcow2(evidence),
    vmdk(evidence),
    vhdx(evidence, missed),
    vdi(evidence),
    banned(evidence),
    vhd(evidence),
    iso(evidence),
  ].filter((finding): finding is FormatFinding => finding !== null);
}
