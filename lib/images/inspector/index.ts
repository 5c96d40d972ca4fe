// Hangar's own streaming disk-image format inspector. Why our own: qemu-img must never be the first
// thing to read a hostile file (its probing and its header-following are the attack surface), and
// the verdict has to be made in the same single pass that hashes and stores the upload. The design
// follows OpenStack's format_inspector and goes further where Hangar's image-safety spec asks.
//
// The inspector keeps only what the parsers need: the first 256 KiB, a few byte ranges that headers
// point at (requested while the bytes stream past), the last 1.5 KiB, one line of text, and the
// current line of a VMDK's embedded descriptor (parsed as it streams, since it may be 2 MiB). Every
// decision is made from those, so the verdict cannot depend on how the stream was chunked.
import {
  findingFor,
  hasMbrSignature,
  partitionTableKind,
  partitionTableProblems,
  planCaptures,
  problemMessages,
  vmdkDescriptorRegion,
} from "./formats";
import { createVmdkDescriptorScanner, type VmdkDescriptorScanner } from "./vmdk-descriptor";
import type { Evidence, FormatFinding, InspectedFormat, InspectionProblem, InspectionReport } from "./types";
import { MAX_VIRTUAL_SIZE } from "./types";

export type { InspectedFormat, InspectionProblem, InspectionReport } from "./types";

export const HEAD_SIZE = 256 * 1024;
const TAIL_SIZE = 1536;
const MAX_TEXT_LINE = 16 * 1024;
const MAX_CAPTURE = 1024 * 1024;
const ALL_FORMATS: readonly InspectedFormat[] = ["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", "qed", "luks"];

export interface CaptureRequest {
  name: string;
  start: number;
  length: number;
}

interface PendingCapture extends CaptureRequest {
  bytes: Uint8Array;
  filled: number;
}

export interface StreamInspector {
  write(chunk: Uint8Array): void;
  finish(): InspectionReport;
  retainedBytes(): number;
}

export function createInspector({ claimedFormat }: { claimedFormat?: string } = {}): StreamInspector {
  const head = new Uint8Array(HEAD_SIZE);
  let headFilled = 0;
  let position = 0;
  // The last TAIL_SIZE bytes, as a ring: small reads then cost no copying of the whole tail.
  const tailRing = new Uint8Array(TAIL_SIZE);
  let planned = false;
  const pending: PendingCapture[] = [];
  const captures = new Map<string, Uint8Array>();
  const missedCaptures: string[] = [];
  let isText = true;
  let line: number[] = [];
  const createTypeLines: string[] = [];
  let finished = false;
  let descriptor: { scanner: VmdkDescriptorScanner; start: number; end: number } | null = null;
  let descriptorLooked = false;

  const request = (requests: CaptureRequest[], chunk: Uint8Array | null, chunkStart: number) => {
    for (const wanted of requests) {
      if (captures.has(wanted.name) || pending.some((item) => item.name === wanted.name)) continue;
      if (wanted.length <= 0 || wanted.length > MAX_CAPTURE || wanted.start < 0) {
        missedCaptures.push(wanted.name);
        continue;
      }
      const capture: PendingCapture = { ...wanted, bytes: new Uint8Array(wanted.length), filled: 0 };
      // Bytes before this chunk are only still available if they lie in the head.
      const fromHeadEnd = Math.min(wanted.start + wanted.length, headFilled);
      if (wanted.start < fromHeadEnd) capture.bytes.set(head.subarray(wanted.start, fromHeadEnd), 0);
      const gapStart = Math.max(wanted.start, headFilled);
      const gapEnd = Math.min(wanted.start + wanted.length, chunk ? chunkStart : position);
      if (gapEnd > gapStart) {
        missedCaptures.push(wanted.name);
        continue;
      }
      capture.filled = Math.max(0, fromHeadEnd - wanted.start);
      pending.push(capture);
      if (capture.filled === capture.length) complete(capture, chunk, chunkStart);
      else if (chunk) feedCapture(capture, chunk, chunkStart);
    }
  };

  const complete = (capture: PendingCapture, chunk: Uint8Array | null, chunkStart: number) => {
    pending.splice(pending.indexOf(capture), 1);
    captures.set(capture.name, capture.bytes);
    request(planCaptures({ head: head.subarray(0, headFilled), captures, completed: capture.name }), chunk, chunkStart);
  };

  function feedCapture(capture: PendingCapture, chunk: Uint8Array, chunkStart: number) {
    const have = capture.start + capture.filled;
    const end = capture.start + capture.length;
    const from = Math.max(have, chunkStart);
    const to = Math.min(end, chunkStart + chunk.length);
    if (to > from && from === have) {
      capture.bytes.set(chunk.subarray(from - chunkStart, to - chunkStart), from - capture.start);
      capture.filled = to - capture.start;
    }
    if (capture.filled === capture.length) complete(capture, chunk, chunkStart);
  }

  const scanText = (chunk: Uint8Array) => {
    for (let index = 0; index < chunk.length && isText; index += 1) {
      const byte = chunk[index]!;
      if (byte === 0x0a) {
        const text = String.fromCharCode(...line);
        if (/^\s*createtype\s*=/i.test(text) && createTypeLines.length < 16) createTypeLines.push(text.trim());
        line = [];
      } else if (byte === 0x09 || byte === 0x0d || (byte >= 0x20 && byte < 0x7f)) {
        line.push(byte);
        if (line.length > MAX_TEXT_LINE) isText = false;
      } else {
        isText = false;
      }
    }
    if (!isText) line = [];
  };

  return {
    write(chunk) {
      if (finished) throw new Error("the inspector has already finished");
      if (chunk.length === 0) return;
      const chunkStart = position;
      if (headFilled < HEAD_SIZE) {
        const take = Math.min(HEAD_SIZE - headFilled, chunk.length);
        head.set(chunk.subarray(0, take), headFilled);
        headFilled += take;
      }
      position += chunk.length;
      if (!descriptorLooked && headFilled >= 512) {
        descriptorLooked = true;
        const region = vmdkDescriptorRegion(head.subarray(0, 512));
        if (region)
          descriptor = {
            scanner: createVmdkDescriptorScanner(region),
            start: region.start,
            end: region.start + region.length,
          };
      }
      if (descriptor && chunkStart < descriptor.end && position > descriptor.start) {
        descriptor.scanner.feed(
          chunk.subarray(Math.max(descriptor.start - chunkStart, 0), Math.min(descriptor.end, position) - chunkStart),
        );
      }
      for (const capture of [...pending]) feedCapture(capture, chunk, chunkStart);
      if (!planned && headFilled === HEAD_SIZE) {
        planned = true;
        request(planCaptures({ head, captures, completed: null }), chunk, chunkStart);
      }
      const kept = chunk.subarray(Math.max(0, chunk.length - TAIL_SIZE));
      const at = (position - kept.length) % TAIL_SIZE;
      const first = Math.min(kept.length, TAIL_SIZE - at);
      tailRing.set(kept.subarray(0, first), at);
      tailRing.set(kept.subarray(first), 0);
      if (isText) scanText(chunk);
    },

    finish() {
      finished = true;
      if (!planned) {
        planned = true;
        request(planCaptures({ head: head.subarray(0, headFilled), captures, completed: null }), null, position);
      }
      for (const capture of pending) missedCaptures.push(capture.name);
      if (isText && line.length) scanText(new Uint8Array([0x0a]));
      const tailLength = Math.min(position, TAIL_SIZE);
      const tailStart = (position - tailLength) % TAIL_SIZE;
      const tail = new Uint8Array(tailLength);
      tail.set(tailRing.subarray(tailStart, Math.min(tailStart + tailLength, TAIL_SIZE)), 0);
      if (tailStart + tailLength > TAIL_SIZE)
        tail.set(tailRing.subarray(0, tailStart + tailLength - TAIL_SIZE), TAIL_SIZE - tailStart);
      const evidence: Evidence = {
        head: head.subarray(0, headFilled),
        fileSize: position,
        tail,
        captures,
        textDescriptor: { createTypeLines, isText: isText && position > 0 },
        vmdkDescriptor: descriptor ? descriptor.scanner.finish() : null,
      };
      return decide(evidence, missedCaptures, claimedFormat);
    },

    retainedBytes() {
      return (
        head.length +
        tailRing.length +
        line.length +
        (descriptor?.scanner.retainedBytes() ?? 0) +
        pending.reduce((sum, item) => sum + item.bytes.length, 0) +
        [...captures.values()].reduce((sum, bytes) => sum + bytes.length, 0)
      );
    },
  };
}

function decide(evidence: Evidence, missedCaptures: string[], claimedFormat: string | undefined): InspectionReport {
  const findings = findingFor(evidence, missedCaptures);
  const problems: InspectionProblem[] = [];
  let finding: FormatFinding;
  if (findings.length === 0) {
    finding = {
      format: "raw",
      virtualSize: evidence.fileSize,
      problems: partitionTableProblems(evidence.head),
      details: { partitionTable: partitionTableKind(evidence.head) },
    };
  } else if (findings.length === 1) {
    finding = findings[0]!;
    // A header at offset 0 that also ends its first sector with 55AA is read as an image by qemu and
    // as a partitioned disk by firmware and partitioning tools. An ISO's first 32 KiB are a system
    // area meant for an MBR or GPT (hybrid ISOs); a fixed VHD's first sector is the guest's own.
    const headerInFirstSector =
      finding.format !== "iso" && !(finding.format === "vhd" && finding.details.footerAt === "end");
    if (headerInFirstSector && hasMbrSignature(evidence.head)) {
      problems.push({
        code: "polyglot_mbr",
        message: `The file is a ${finding.format} image whose first sector also carries an MBR boot signature (55AA), so other tools read it as a partitioned raw disk. Files built to be read differently by different tools are refused; export the image again.`,
      });
    }
  } else {
    const names = findings.map((item) => item.format);
    finding = {
      format: findings[0]!.format,
      virtualSize: findings[0]!.virtualSize,
      problems: [],
      details: { matches: names },
    };
    problems.push({
      code: "polyglot",
      message: `The file matches several disk formats at once (${names.join(", ")}). Files built to be read differently by different tools are refused; export the image again in one format.`,
    });
  }
  problems.push(...finding.problems);
  if (finding.format === "qed" || finding.format === "luks") {
    problems.push({ code: `${finding.format}_banned`, message: problemMessages.banned(finding.format) });
  }
  if (evidence.fileSize === 0) {
    problems.push({ code: "empty", message: "The file is empty. Pick the disk image file itself." });
  } else if (finding.virtualSize !== null && finding.virtualSize <= 0 && !problems.length) {
    problems.push({
      code: "virtual_size_zero",
      message: `The ${finding.format} header gives a virtual size of 0; the image is malformed.`,
    });
  }
  if (finding.virtualSize !== null && finding.virtualSize >= MAX_VIRTUAL_SIZE) {
    problems.push({
      code: "virtual_size_absurd",
      message: `The ${finding.format} header claims a virtual size of 8 PiB or more, larger than any disk can be; the header is malformed.`,
    });
  }
  const claimed = claimedFormat && claimedFormat !== "detect" ? claimedFormat : null;
  if (claimed && !ALL_FORMATS.includes(claimed as InspectedFormat)) {
    problems.push({
      code: "unknown_claim",
      message: `“${claimed}” is not a disk format Hangar knows; choose one of ${ALL_FORMATS.join(", ")}, or detect.`,
    });
  } else if (claimed && claimed !== finding.format) {
    problems.push({ code: "format_mismatch", message: problemMessages.mismatch(claimed, finding) });
  }
  return {
    format: finding.format,
    virtualSize: finding.virtualSize,
    fileSize: evidence.fileSize,
    safe: problems.length === 0,
    problems: dedupe(problems),
    details: finding.details,
  };
}

function dedupe(problems: InspectionProblem[]): InspectionProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => (seen.has(problem.code) ? false : (seen.add(problem.code), true)));
}
