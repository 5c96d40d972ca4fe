// Writes an import's slots into its private temp file with O_DIRECT where it can: the bytes go from
// the hashing ring to the disk without being copied into the page cache. Filling the page cache
// with an upload cost the server about 1.5 CPU-seconds of kernel time per GiB here (4.5 s against
// 1.4 s of system time for a 2 GiB upload), nearly as much as both hashes, on two cores shared with
// them. Whatever O_DIRECT can't take (a part that does not start or end on a 4 KiB boundary, or a
// file system without O_DIRECT) goes through an ordinary descriptor of the same file.
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { SLOT_ALIGNMENT } from "./hasher";

// Left alone, the disk's cache holds a whole multi-gigabyte upload and the blob store's fsync at the
// end writes it out while the client waits. Flushing every so often while bytes arrive spreads that
// over the upload, when the disk is otherwise idle.
const WRITEBACK_EVERY_BYTES = 64 * 1024 * 1024;

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

export interface TempFileWriter {
  /** Writes `bytes` at `position`; resolves once they are in the file. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Bytes written through this writer. */
  readonly bytesWritten: number;
  /** Waits for any flush in progress and closes the file. */
  close(): Promise<void>;
}

export async function openTempFileWriter(path: string): Promise<TempFileWriter> {
  const buffered = await open(path, "r+");
  let direct: FileHandle | null = await open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => null);
  let bytesWritten = 0;
  let sinceWriteback = 0;
  let writeback: Promise<void> | null = null;

  const dropDirect = () => {
    void direct?.close().catch(() => {});
    direct = null;
  };

  return {
    async write(bytes, position) {
      let done = 0;
      if (direct && position % SLOT_ALIGNMENT === 0 && bytes.byteOffset % SLOT_ALIGNMENT === 0) {
        const aligned = bytes.length - (bytes.length % SLOT_ALIGNMENT);
        try {
          if (aligned > 0) await writeAll(direct, bytes.subarray(0, aligned), position);
          done = aligned;
        } catch (error) {
          // EINVAL: this file system or device wants another alignment; the rest goes buffered.
          if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
          dropDirect();
        }
      }
      if (done < bytes.length) await writeAll(buffered, bytes.subarray(done), position + done);
      bytesWritten += bytes.length;
      sinceWriteback += bytes.length;
      if (sinceWriteback >= WRITEBACK_EVERY_BYTES && !writeback) {
        sinceWriteback = 0;
        writeback = buffered.datasync().then(
          () => void (writeback = null),
          () => void (writeback = null),
        );
      }
    },
    get bytesWritten() {
      return bytesWritten;
    },
    async close() {
      await writeback;
      await direct?.close();
      await buffered.close();
    },
  };
}
