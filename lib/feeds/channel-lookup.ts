// The answer deploy scripts and Terraform read at `<feed>/channels/<image>/<channel>.json`: which
// version a channel names now, where to download it and how to check it. The simplestreams alias
// and the marketplace's channel entry name the same version with the same URL and checksums.
import type { FeedVersion } from "./types";

export interface ChannelAnswer {
  image: { slug: string; name: string; os: string; osVersion: string; arch: string };
  channel: string;
  version: {
    id: string;
    version: string;
    releaseStatus: FeedVersion["releaseStatus"];
    format: FeedVersion["format"];
    fileSize: number;
    virtualSize: number;
    sha256: string;
    sha512: string;
    md5: string;
    createdAt: string;
    approvedAt: string | null;
  };
  download: { url: string; filename: string };
}

/** The channel's current version among one image's offered versions; null when it offers none. */
export function channelLookup(versions: FeedVersion[], channel: string): ChannelAnswer | null {
  const current = versions.find((version) => version.channels.includes(channel));
  if (!current) return null;
  return {
    image: {
      slug: current.imageSlug,
      name: current.imageName,
      os: current.os,
      osVersion: current.osVersion,
      arch: current.arch,
    },
    channel,
    version: {
      id: current.versionId,
      version: current.version,
      releaseStatus: current.releaseStatus,
      format: current.format,
      fileSize: current.fileSize,
      virtualSize: current.virtualSize,
      sha256: current.sha256,
      sha512: current.sha512,
      md5: current.md5,
      createdAt: current.createdAt.toISOString(),
      approvedAt: current.approvedAt?.toISOString() ?? null,
    },
    download: { url: current.urls.download, filename: current.urls.download.split("/").pop()! },
  };
}
