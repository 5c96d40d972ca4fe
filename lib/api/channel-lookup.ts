// A channel's current version with what a machine needs to fetch and check it, or a refusal that
// says which part of the lookup failed (an image the caller can't see is simply not found).
import { listChannels } from "@/db/queries/channels";
import { getImageBySlug } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { getVersionDetail } from "@/db/queries/versions";
import { env } from "@/lib/env";
import { HangarError } from "@/lib/errors";

export async function channelLookup({
  viewer,
  imageSlug,
  channel,
}: {
  viewer: Viewer;
  imageSlug: string;
  channel: string;
}) {
  const image = await getImageBySlug({ viewer, slug: imageSlug });
  if (!image) throw new HangarError("not_found", `There is no image ${imageSlug} that this caller can see.`);
  const channels = await listChannels({ imageId: image.id });
  const found = channels.find((entry) => entry.name === channel);
  if (!found)
    throw new HangarError(
      "not_found",
      `${imageSlug} has no channel ${channel}; its channels are ${channels.map((entry) => entry.name).join(", ")}.`,
    );
  const version = found.version === null ? null : await getVersionDetail({ viewer, imageSlug, version: found.version });
  if (!version)
    throw new HangarError(
      "not_found",
      found.managed
        ? `${imageSlug} has no approved version yet, so latest points nowhere.`
        : `${imageSlug}'s channel ${channel} points at a version this caller can't see.`,
    );
  return {
    image: { slug: image.slug, name: image.name, os: image.os, osVersion: image.osVersion, arch: image.arch },
    channel: { name: found.name, managed: found.managed, updatedAt: found.updatedAt },
    version: {
      id: version.id,
      version: version.version,
      format: version.format,
      virtualSize: version.virtualSize,
      fileSize: version.fileSize,
      sha256: version.sha256,
      releaseStatus: version.releaseStatus,
      downloadUrl: `${env().origin}/api/v1/versions/${version.id}/download`,
    },
  };
}
