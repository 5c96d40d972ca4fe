// Sending a stored file to a Node response as fast as Node can: two 2 MiB buffers that take turns,
// one read while the other is on the socket. A GiB over loopback took 1.2–1.4 s through a web
// ReadableStream and 0.7–0.9 s through fs.createReadStream().pipe(), against 0.45–0.5 s this way
// (python3 -m http.server, the static-server anchor of the feeds bench: 0.4–0.5 s). 1, 2 and 4 MiB
// measured alike within the noise; 256 KiB was 30% slower.
import type { ServerResponse } from "node:http";
import { open } from "node:fs/promises";

const BUFFER_BYTES = 2 * 1024 * 1024;

/** Writes bytes [start, end] (inclusive) of `file` to `res`, then ends it; a closed socket stops it quietly. */
export async function sendFileRange(
  res: ServerResponse,
  { file, start, end }: { file: string; start: number; end: number },
): Promise<void> {
  const handle = await open(file, "r");
  try {
    const size = end - start + 1;
    const bytes = Math.max(1, Math.min(BUFFER_BYTES, size));
    const buffers = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
    const flushed: Promise<boolean>[] = [Promise.resolve(true), Promise.resolve(true)];
    for (let sent = 0, turn = 0; sent < size; turn ^= 1) {
      if (!(await flushed[turn])) return;
      if (res.destroyed) return;
      const { bytesRead } = await handle.read(buffers[turn]!, 0, Math.min(bytes, size - sent), start + sent);
      if (bytesRead === 0) throw new Error(`${file} is shorter than its recorded size`);
      sent += bytesRead;
      flushed[turn] = new Promise((resolve) =>
        res.write(buffers[turn]!.subarray(0, bytesRead), (error) => resolve(!error)),
      );
    }
    if ((await Promise.all(flushed)).every(Boolean)) res.end();
  } finally {
    await handle.close();
  }
}
