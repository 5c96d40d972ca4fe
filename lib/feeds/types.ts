// What every feed format is built from: the versions a feed offers, with everything a platform's
// index needs already resolved (checksums, sizes, the absolute download URL). The feed queries make
// these; the OpenNebula, simplestreams, channel-lookup and "Use it on…" builders only format them.
import type { Architecture, DiskFormat, VmTemplate } from "@/db/enums";

export interface FeedVersion {
  versionId: string;
  imageId: string;
  imageSlug: string;
  imageName: string;
  imageDescription: string;
  os: string;
  osVersion: string;
  arch: Architecture;
  /** The version's label, e.g. "12.7.0". */
  version: string;
  /** Only approved versions are offered; a deprecated one still is, with its status. */
  releaseStatus: "approved" | "deprecated";
  /** The published channels that point at this version now (a subset of the image's published ones). */
  channels: string[];
  format: DiskFormat;
  fileSize: number;
  virtualSize: number;
  sha256: string;
  sha512: string;
  md5: string;
  /** When the version was made, and when it was approved (null for versions approved before approval dates were kept). */
  createdAt: Date;
  approvedAt: Date | null;
  /** The project that publishes it, by name. */
  publisher: string;
  tags: string[];
  vmTemplate: VmTemplate;
  /**
   * Absolute URLs under the feed: `download` ends with the file's name and extension
   * (`<feed>/files/<versionId>/<slug>-<version>.<ext>`), immutable per version.
   */
  urls: { download: string };
}

/** The feed being answered: its absolute base URL (ending in "/") and a name for humans. */
export interface FeedContext {
  base: string;
  name: string;
}

/** File name extension for a disk format, as platforms expect it in a URL. */
export const extensionOf: Record<DiskFormat, string> = {
  raw: "img",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vhd: "vhd",
  vhdx: "vhdx",
  vdi: "vdi",
  iso: "iso",
};
