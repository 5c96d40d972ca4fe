import type { QemuImgInfo } from "../qemu-img";
import type { VmdkDescriptorVerdict } from "./vmdk-descriptor";

export type InspectedFormat = "raw" | "qcow2" | "vmdk" | "vhd" | "vhdx" | "vdi" | "iso" | "qed" | "luks";

/**
 * What a version keeps of its inspection (the `image_versions.inspection` column): the inspector's
 * report, what `qemu-img info` said, and for a linked clone how Hangar made the overlay. Every field
 * is optional: a clone of a raw copy stores `{}`, and rows written before a field existed lack it.
 */
export type StoredInspection = Partial<InspectionReport> & {
  qemuImg?: QemuImgInfo | null;
  linkedClone?: { backingVersionId: string; backingFormat: string; note: string };
};

export interface InspectionProblem {
  code: string;
  message: string;
}

export interface InspectionReport {
  format: InspectedFormat;
  virtualSize: number | null;
  fileSize: number;
  safe: boolean;
  problems: InspectionProblem[];
  details: Record<string, unknown>;
}

/** What one format's parser concluded about the bytes. */
export interface FormatFinding {
  format: InspectedFormat;
  virtualSize: number | null;
  problems: InspectionProblem[];
  details: Record<string, unknown>;
}

/** Everything the parsers may look at, collected while the bytes streamed past. */
export interface Evidence {
  head: Uint8Array;
  fileSize: number;
  tail: Uint8Array;
  /** Byte ranges requested while streaming, keyed by name; absent when the file ended first. */
  captures: ReadonlyMap<string, Uint8Array>;
  textDescriptor: { createTypeLines: string[]; isText: boolean };
  /** A sparse VMDK's embedded descriptor, parsed while it streamed past; null when there is none to read. */
  vmdkDescriptor: VmdkDescriptorVerdict | null;
}

/**
 * Sizes at or above this can't even be held exactly (the header is malformed). The configurable cap
 * (HANGAR_MAX_VIRTUAL_SIZE) is applied where the inspection and qemu-img are combined (crossCheck).
 */
export const MAX_VIRTUAL_SIZE = Number.MAX_SAFE_INTEGER;
