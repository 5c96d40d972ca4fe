// The text descriptor embedded in a sparse VMDK, parsed line by line while its bytes stream past.
// A descriptor may legitimately be up to 2 MiB, so it is never buffered whole: only the current
// line (its first LINE_KEEP bytes) and a few facts are kept. Every line must be one we understand;
// qemu silently skips lines it doesn't know, but other tools may not, so such files are refused.
//
// What qemu itself reads of an embedded descriptor (block/vmdk.c): the text up to the first NUL, of
// which only the first 10 KiB are searched (strstr) for CID, parentCID and parentFileNameHint.
import type { InspectionProblem } from "./types";

export const VMDK_MAX_DESCRIPTOR_BYTES = 2 * 1024 * 1024;
/** qemu's DESC_SIZE: how much of an embedded descriptor it reads for CID and parentFileNameHint. */
export const QEMU_DESCRIPTOR_WINDOW = 20 * 512;
const LINE_KEEP = 4096;
const MAX_EXTENTS_KEPT = 8;

const ACCESS_MODES = ["RW", "RDONLY", "NOACCESS"];
// The VMDK specification's extent types, plus qemu's SESPARSE.
const EXTENT_TYPES = ["SPARSE", "FLAT", "ZERO", "VMFS", "VMFSSPARSE", "VMFSRDM", "VMFSRAW", "SESPARSE"];
// Header keys of the VMDK specification (case-sensitive, as qemu and VMware read them). ddb.* keys
// (the disk database: geometry, adapter type, UUIDs, tools version) are all accepted.
const HEADER_KEYS: Record<string, (value: string) => boolean> = {
  version: (value) => /^[123]$/.test(value),
  CID: (value) => /^[0-9a-fA-F]{1,8}$/.test(value),
  parentCID: (value) => /^[0-9a-fA-F]{1,8}$/.test(value),
  createType: (value) => /^"[^"]*"$/.test(value),
  encoding: (value) => /^"[^"]*"$/.test(value),
  isNativeSnapshot: (value) => /^"[^"]*"$/.test(value),
  // VMware's changed-block-tracking sidecar: qemu never opens it, so it is only metadata here.
  changeTrackPath: (value) => /^"[^"]*"$/.test(value),
  parentFileNameHint: () => true,
};
const PARENT_HINT = "parentFileNameHint";

export interface VmdkExtentLine {
  access: string;
  sectors: number;
  type: string;
  fileName: string;
}

export interface VmdkDescriptorVerdict {
  problems: InspectionProblem[];
  createType: string | null;
  extents: VmdkExtentLine[];
  /** The descriptor ended before its declared size (a NUL terminates the text). */
  terminated: boolean;
  /** The file ended before the declared descriptor did. */
  truncated: boolean;
}

export interface VmdkDescriptorScanner {
  /** Bytes of the descriptor region, in order, from its first byte. */
  feed(bytes: Uint8Array): void;
  finish(): VmdkDescriptorVerdict;
  retainedBytes(): number;
}

const quoteLine = (text: string) => {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return `“${shown.replace(/[^\x20-\x7e]/g, "?")}”`;
};

export function createVmdkDescriptorScanner({
  length,
  capacitySectors,
}: {
  length: number;
  capacitySectors: number;
}): VmdkDescriptorScanner {
  const line = new Uint8Array(LINE_KEEP);
  let lineLength = 0;
  let lineNumber = 1;
  let lineStart = 0;
  let consumed = 0;
  let terminated = false;
  let binary = false;
  let parentMatch = 0;
  let parentHintSeen = false;
  const problems = new Map<string, string>();
  const createTypes: string[] = [];
  const seenKeys = new Set<string>();
  const keysInQemuWindow = new Set<string>();
  const extents: VmdkExtentLine[] = [];
  let extentCount = 0;

  const refuse = (code: string, message: string) => {
    if (!problems.has(code)) problems.set(code, message);
  };

  const handleKey = (key: string, value: string, truncated: boolean, endsAt: number) => {
    if (key.startsWith("ddb.")) return;
    const known = Object.keys(HEADER_KEYS).find((name) => name.toLowerCase() === key.toLowerCase());
    if (truncated) {
      refuse(
        "vmdk_descriptor_line_length",
        `The VMDK descriptor's line ${lineNumber} (${key}) is longer than ${LINE_KEEP} bytes; the file is malformed or crafted.`,
      );
      return;
    }
    if (known && known !== key) {
      if (known === "createType") {
        refuse(
          "vmdk_createtype_case",
          `The VMDK descriptor spells createType as “${key}”; qemu and other tools disagree on such files, so they are refused.`,
        );
        createTypes.push(value.replace(/^"|"$/g, ""));
      } else {
        refuse(
          "vmdk_key_case",
          `The VMDK descriptor spells the key ${known} as “${key}” (line ${lineNumber}); keys are case-sensitive and tools disagree on such files, so they are refused.`,
        );
      }
      return;
    }
    if (!known) {
      if (key.toLowerCase().startsWith("ddb.")) {
        refuse(
          "vmdk_key_case",
          `The VMDK descriptor has the key “${key}” (line ${lineNumber}); disk database keys start with lower-case “ddb.”, so the file is refused.`,
        );
      } else {
        refuse(
          "vmdk_unknown_key",
          `The VMDK descriptor has the key “${key}” (line ${lineNumber}), which is not a VMDK descriptor key qemu knows; only version, CID, parentCID, createType, encoding, isNativeSnapshot, changeTrackPath and ddb.* keys are allowed.`,
        );
      }
      return;
    }
    if (key === "createType") createTypes.push(value.replace(/^"|"$/g, ""));
    else if (seenKeys.has(key))
      refuse(
        "vmdk_duplicate_key",
        `The VMDK descriptor declares ${key} more than once; such files are read differently by different tools and are refused.`,
      );
    seenKeys.add(key);
    if (endsAt <= QEMU_DESCRIPTOR_WINDOW) keysInQemuWindow.add(key);
    if (key === PARENT_HINT) return;
    if (!HEADER_KEYS[key]!(value)) {
      refuse(
        "vmdk_key_value",
        `The VMDK descriptor's ${key} has the value ${quoteLine(value)} (line ${lineNumber}), which is not a valid ${key}; the file is malformed.`,
      );
    }
  };

  const handleExtent = (text: string) => {
    extentCount += 1;
    const [access = ""] = text.split(/\s+/);
    if (!ACCESS_MODES.includes(access)) {
      refuse(
        "vmdk_extent_access",
        `The VMDK descriptor has an extent line with access mode ${quoteLine(access)} (line ${lineNumber}), which qemu doesn't know; only RW, RDONLY and NOACCESS are allowed. Export the disk again as a monolithicSparse or streamOptimized VMDK.`,
      );
      return;
    }
    const match = /^(\S+)\s+(\d+)\s+(\S+)(?:\s+"([^"]*)")?(?:\s+(\S+))?$/.exec(text);
    if (!match) {
      refuse(
        "vmdk_extent_line",
        `The VMDK descriptor has an extent line qemu can't parse (line ${lineNumber}: ${quoteLine(text)}); the file is malformed or crafted.`,
      );
      return;
    }
    const [, , sectors = "0", type = "", fileName, offset] = match;
    if (!EXTENT_TYPES.includes(type)) {
      refuse(
        "vmdk_extent_unknown_type",
        `The VMDK descriptor has an extent of type ${quoteLine(type)} (line ${lineNumber}), which qemu doesn't know; a self-contained VMDK has one SPARSE extent. Export the disk again as a monolithicSparse or streamOptimized VMDK.`,
      );
      return;
    }
    if (type === "SPARSE" && (fileName === undefined || offset !== undefined)) {
      refuse(
        "vmdk_extent_line",
        `The VMDK descriptor's SPARSE extent line ${quoteLine(text)} (line ${lineNumber}) should be: access, size, SPARSE and a quoted file name, nothing more; the file is malformed.`,
      );
      return;
    }
    if (extents.length < MAX_EXTENTS_KEPT)
      extents.push({ access, sectors: Number(sectors), type, fileName: fileName ?? "" });
  };

  const endLine = () => {
    const truncated = lineLength > LINE_KEEP;
    const raw = String.fromCharCode(...line.subarray(0, Math.min(lineLength, LINE_KEEP)));
    const text = raw.replace(/^[ \t\r]+/, "").replace(/[ \t\r]+$/, "");
    const endsAt = lineStart + lineLength;
    if (text && !text.startsWith("#")) {
      const assignment = /^([^\s="]+)\s*=\s*(.*)$/.exec(text);
      if (assignment) handleKey(assignment[1]!, assignment[2]!, truncated, endsAt);
      else if (truncated)
        refuse(
          "vmdk_descriptor_line_length",
          `The VMDK descriptor's line ${lineNumber} is longer than ${LINE_KEEP} bytes and is not a comment; the file is malformed or crafted.`,
        );
      else if (/^\S+\s+\d+\s/.test(text) || ACCESS_MODES.includes(text.split(/\s+/)[0]!)) handleExtent(text);
      else {
        refuse(
          "vmdk_descriptor_line",
          `The VMDK descriptor has a line that is neither a comment, a key = value setting nor an extent (line ${lineNumber}: ${quoteLine(text)}); qemu would silently skip it but other tools may not, so the file is refused.`,
        );
      }
    }
    lineLength = 0;
    lineNumber += 1;
    lineStart = endsAt + 1;
  };

  return {
    feed(bytes) {
      for (let index = 0; index < bytes.length && !terminated; index += 1) {
        const byte = bytes[index]!;
        if (byte === 0) {
          endLine();
          terminated = true;
          break;
        }
        consumed += 1;
        if (byte === 0x0a) {
          endLine();
          continue;
        }
        // Streaming search for the one key qemu finds anywhere, even inside a comment.
        parentMatch =
          byte === PARENT_HINT.charCodeAt(parentMatch) ? parentMatch + 1 : byte === PARENT_HINT.charCodeAt(0) ? 1 : 0;
        if (parentMatch === PARENT_HINT.length) {
          parentHintSeen = true;
          parentMatch = 0;
        }
        if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0d) || byte === 0x7f) binary = true;
        if (lineLength < LINE_KEEP) line[lineLength] = byte;
        lineLength += 1;
      }
    },

    finish() {
      const truncated = !terminated && consumed < length;
      if (!terminated && lineLength) endLine();
      if (binary)
        refuse(
          "vmdk_descriptor_binary",
          "The VMDK descriptor contains control characters; it is not text, so the file is malformed or crafted.",
        );
      if (parentHintSeen)
        refuse(
          "vmdk_parent",
          "The VMDK is a delta disk that names a parent file (parentFileNameHint). Upload a self-contained VMDK.",
        );
      if (!terminated && !truncated && length < QEMU_DESCRIPTOR_WINDOW) {
        refuse(
          "vmdk_descriptor_unterminated",
          "The VMDK descriptor fills its declared size with no terminating zero byte, so qemu would read on into the data after it; the file is malformed or crafted.",
        );
      }
      if (createTypes.length === 0)
        problems.set("vmdk_no_createtype", "The VMDK descriptor has no createType; the file is malformed.");
      if (createTypes.length > 1)
        refuse(
          "vmdk_duplicate_createtype",
          "The VMDK descriptor declares createType more than once; such files are read differently by different tools and are refused.",
        );
      const createType = createTypes[0] ?? null;
      if (createType !== null && createType !== "monolithicSparse" && createType !== "streamOptimized") {
        refuse(
          "vmdk_create_type",
          `The VMDK is of type ${createType}, whose data lives in other files. Only single-file VMDKs (monolithicSparse or streamOptimized) are accepted: convert it with qemu-img convert -O vmdk -o subformat=streamOptimized.`,
        );
      }
      for (const key of ["CID", "parentCID"]) {
        if (!keysInQemuWindow.has(key)) {
          refuse(
            "vmdk_cid_missing",
            `The VMDK descriptor has no ${key} line in its first 10 KiB, where qemu looks for it; qemu can't open such a file.`,
          );
        }
      }
      if (extentCount !== 1 && !problems.has("vmdk_extent_access") && !problems.has("vmdk_extent_unknown_type")) {
        refuse(
          "vmdk_extent_count",
          `The VMDK descriptor lists ${extentCount} extents; exactly one, inside the file itself, is accepted.`,
        );
      }
      for (const extent of extents) {
        if (extent.type !== "SPARSE") {
          const why = extent.type === "ZERO" ? "which holds no data" : "which means another file";
          refuse(
            "vmdk_extent_type",
            `The VMDK descriptor lists a ${extent.type} extent, ${why}; a self-contained VMDK has one SPARSE extent inside itself. Upload a monolithicSparse or streamOptimized VMDK.`,
          );
        } else if (!extent.fileName || /[/\\:]/.test(extent.fileName)) {
          refuse(
            "vmdk_extent_path",
            `The VMDK descriptor points at “${extent.fileName}”, a path to another file. Upload a self-contained VMDK.`,
          );
        } else if (extent.sectors !== capacitySectors) {
          refuse(
            "vmdk_extent_size",
            `The VMDK descriptor's extent has ${extent.sectors} sectors but the header says the disk has ${capacitySectors}; tools would disagree on the disk's size, so the file is refused.`,
          );
        }
      }
      return {
        problems: [...problems].map(([code, message]) => ({ code, message })),
        createType,
        extents,
        terminated,
        truncated,
      };
    },

    retainedBytes() {
      return line.length;
    },
  };
}
