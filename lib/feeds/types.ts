// What every feed format is built from: the versions a feed offers, with everything a platform's
// index needs already resolved (checksums, sizes, the absolute download URL). The feed queries make
// these; the OpenNebula, simplestreams, channel-lookup and "Use it on…" builders only format them.
import type { DiskFormat } from "@/db/enums";
import type { FeedVersionRow } from "@/db/queries/feeds";

/** One offered version with its absolute URLs under the feed (the fields: FeedVersionRow). */
export type FeedVersion = FeedVersionRow & {
  /**
   * `download` ends with the file's name and extension (`<feed>/files/<versionId>/<slug>-<version>.<ext>`),
   * immutable per version.
   */
  urls: { download: string };
};

/** The feed being answered: its absolute base URL (ending in "/"), its name, and whether it is the public feed. */
export interface FeedContext {
  base: string;
  name: string;
  public: boolean;
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
