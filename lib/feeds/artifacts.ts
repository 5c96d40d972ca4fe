// The LXD/Incus half of a version in a simplestreams feed: its metadata tarball and the combined
// fingerprint (the tarball then the whole disk, hashed). Made once per version by the
// `feed.artifacts` job, queued when a simplestreams listing finds a launchable version without them;
// the listing shows the version's disk meanwhile and its LXD/Incus items once they exist.
import type { PlatformArtifactKind } from "@/db/enums";
import { platformArtifactKinds } from "@/db/enums";
import { getArtifactSource, savePlatformArtifacts } from "@/db/queries/platform-artifacts";
import { enqueueOnce } from "@/lib/jobs/queue";
import { getBlobStore } from "@/lib/storage";
import { createHash } from "node:crypto";
import { combinedSha256, lxdMetadataTarball } from "./lxd-metadata";

export async function makePlatformArtifacts(
  { versionId }: { versionId: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const source = await getArtifactSource({ versionId });
  // Not a ready, self-contained qcow2 (any more): there is nothing LXD or Incus could launch.
  if (!source) return;
  const rows = [];
  // LXD and Incus read the tarball alike, so both kinds are usually the same bytes: the disk is read once.
  const combined = new Map<string, string>();
  for (const kind of platformArtifactKinds as readonly PlatformArtifactKind[]) {
    const content = await lxdMetadataTarball(source, kind);
    const sha256 = createHash("sha256").update(content).digest("hex");
    // Streamed from the store: a bucket's blob needs no local copy for this.
    if (!combined.has(sha256))
      combined.set(sha256, await combinedSha256(content, await getBlobStore().createReadStream(source.sha256), signal));
    rows.push({ versionId, kind, content, sha256, size: content.byteLength, combinedSha256: combined.get(sha256)! });
  }
  await savePlatformArtifacts(rows);
}

/** Queues the artifacts of versions a listing found without them (one waiting job per version). */
export async function queuePlatformArtifacts(versionIds: string[]): Promise<void> {
  for (const versionId of versionIds) await enqueueOnce("feed.artifacts", { versionId }, versionId);
}
