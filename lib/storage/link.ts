// Handing a blob to a tool that opens it later (a build's upload step, a staged disk): a hard link
// in the tool's own folder keeps the bytes however long the tool runs, even if the cache evicts its
// copy meanwhile, and costs no copy. The folder is the caller's, and goes with it.
import { constants } from "node:fs";
import { copyFile, link, symlink } from "node:fs/promises";
import { getBlobStore } from "./index";

/** Hard-links `file` as `target`, or (across file systems) copies or symlinks it; a name already there is kept. */
export async function placeFile(file: string, target: string, otherwise: "copy" | "symlink"): Promise<void> {
  try {
    await link(file, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Names in the folder are content addresses: one that is there already holds the same bytes.
    if (code === "EEXIST") return;
    if (code !== "EXDEV" && code !== "EPERM") throw error;
    if (otherwise === "copy") await copyFile(file, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    else await symlink(file, target);
  }
}

/**
 * The blob at `target` (in a folder of the caller's, on the file system of HANGAR_DATA_DIR), readable
 * until the caller removes it: a hard link to the store's file or cached copy, a copy across file systems.
 */
export async function linkBlob({ sha256, target }: { sha256: string; target: string }): Promise<string> {
  await getBlobStore().withLocalPath(sha256, (file) => placeFile(file, target, "copy"));
  return target;
}
