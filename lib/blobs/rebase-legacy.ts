// Linked clones made before overlays named their base by sha256 name it by its absolute path in this
// machine's local store, which no other machine (nor a bucket's cache) has. Moving them into a bucket,
// `migrate --to s3` rewrites each one's header to the relative name (`qemu-img rebase -u` on a scratch
// copy: same data, same base bytes). Those are new bytes, so a new blob: it is put into the local
// store as well (Hangar may still run on it), and its versions move onto it with their sha256 and
// sha512, their blob row and their content scan. An overlay naming a rebased one (a clone of a
// legacy clone) is rewritten in turn. The old blob stays until nothing refers to it (reconciliation).
import { chmod, copyFile, rm } from "node:fs/promises";
import path from "node:path";
import { listLinkedOverlays, moveVersionsToBlob } from "@/db/queries/blobs";
import { qemuImgInfo, qemuImgRebaseUnsafe } from "@/lib/images/qemu-img";
import { beginBlobWrite } from "@/lib/processes/blob-writes";
import { createTempPath, hashFile, type BlobStore } from "@/lib/storage";

const SHA256 = /^[0-9a-f]{64}$/;
/** As deep as lib/images/backing.ts reads a chain: one round per level. */
const MAX_CHAIN = 16;

export interface RebasedOverlay {
  from: string;
  to: string;
  versions: string[];
}

/**
 * Rewrites every linked clone's overlay in `source` (the local store) whose header names its base
 * other than by the base's sha256; `remapped` (old → new sha256) carries over between passes.
 */
export async function rebaseLegacyOverlays({
  source,
  dataDir,
  remapped,
}: {
  source: BlobStore;
  dataDir: string;
  remapped: Map<string, string>;
}): Promise<{ rebased: RebasedOverlay[]; failed: { sha256: string; reason: string }[] }> {
  const rebased: RebasedOverlay[] = [];
  const failed = new Map<string, string>();
  for (let round = 0; round < MAX_CHAIN; round++) {
    let changed = false;
    for (const overlay of await listLinkedOverlays()) {
      if (failed.has(overlay.sha256)) continue;
      // Missing from the source: the copy reports it.
      const file = await source.storedFile(overlay.sha256).catch(() => null);
      if (!file) continue;
      const info = await qemuImgInfo({ path: file, format: "qcow2" });
      const named = info["backing-filename"];
      const format = info["backing-filename-format"];
      if (!named || named === overlay.baseSha256) continue;
      const base = path.isAbsolute(named) ? path.basename(named) : named;
      // The header must name the base the database says this is a clone of (or what that base was
      // before this run rewrote it): then only the name changes, never which bytes lie beneath.
      if (!SHA256.test(base) || !format || (base !== overlay.baseSha256 && remapped.get(base) !== overlay.baseSha256)) {
        failed.set(
          overlay.sha256,
          `the overlay of ${overlay.versions.join(", ")} names ${JSON.stringify(named.slice(0, 200))}${format ? "" : " without a format"}, not its base ${overlay.baseSha256}; not rewritten (it can't be read from the bucket: flatten it with a full clone first)`,
        );
        continue;
      }
      const scratch = await createTempPath({ root: dataDir, prefix: "blob-rebase" });
      try {
        await copyFile(file, scratch);
        await chmod(scratch, 0o600);
        await qemuImgRebaseUnsafe({ file: scratch, backingName: overlay.baseSha256, backingFormat: format });
        const hashes = await hashFile(scratch);
        const write = await beginBlobWrite(hashes.sha256);
        try {
          await source.putFromTempFile({ tempPath: scratch, sha256: hashes.sha256, size: hashes.size });
          await moveVersionsToBlob({
            from: overlay.sha256,
            to: { sha256: hashes.sha256, sha512: hashes.sha512, md5: null, size: hashes.size },
          });
        } finally {
          await write.end();
        }
        remapped.set(overlay.sha256, hashes.sha256);
        rebased.push({ from: overlay.sha256, to: hashes.sha256, versions: overlay.versions });
        changed = true;
      } finally {
        await rm(scratch, { force: true });
      }
    }
    if (!changed) break;
  }
  return { rebased, failed: [...failed].map(([sha256, reason]) => ({ sha256, reason })) };
}
