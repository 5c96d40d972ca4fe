// Shapes of what a content scan and a file diff store (jsonb columns), shared by the engines, the
// queries and the pages.

export interface ContentFilesystem {
  device: string;
  type: string;
  label: string;
  uuid: string;
  /** Where the guest mounts it (from its fstab), when known. */
  mountpoint: string;
  /** Bytes, from statvfs when it could be mounted; null when it could not (swap, unreadable). */
  size: number | null;
  used: number | null;
  free: number | null;
}

export interface ContentPackage {
  name: string;
  /** As the package manager prints it: [epoch:]version[-release]. */
  version: string;
  epoch: number;
  upstreamVersion: string;
  release: string;
  arch: string;
}

/** What the inspection job hands the store: one scan's facts. */
export interface ContentFacts {
  osFound: boolean;
  noOsReason: string | null;
  osType: string | null;
  distro: string | null;
  productName: string | null;
  osVersion: string | null;
  arch: string | null;
  hostname: string | null;
  packageFormat: string | null;
  packageManager: string | null;
  initSystem: string | null;
  kernels: string[];
  filesystems: ContentFilesystem[];
  loginUsers: string[];
  enabledServices: string[];
  packages: ContentPackage[];
}

export type FileChange = "added" | "removed" | "changed";

export interface FileDiff {
  path: string;
  change: FileChange;
  /** "file", "directory", "symlink", ...; "note" for a stored note that is not a difference (below). */
  type: string;
  sizeBefore: number | null;
  sizeAfter: number | null;
  /** For a change: what changed ("content", "target", "mode 0644 → 0600", "owner 0:0 → 1000:1000", "type file → symlink"). */
  details?: string[];
  /** For small text files under /etc: a unified line diff. */
  lineDiff?: string;
  /**
   * Only on entries of type "note", stored after the differences: what the comparison could not
   * cover, and how many differences were left out past the cap. Reads (db/queries/version-diffs.ts)
   * hand them apart from the differences.
   */
  note?: string;
  omitted?: number;
}
