// sha256 and sha512 of an upload, computed while the bytes arrive. Each digest runs in its own
// worker thread so hashing overlaps with the network and the disk instead of adding to them. Chunks
// are copied once into a fixed ring of shared memory that both threads read, and a slot is reused
// only after both have hashed it: memory stays flat however fast the sender is, and no per-chunk
// buffers pile up for the garbage collector.
import { Worker } from "node:worker_threads";

const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hash = createHash(workerData.algorithm);
const ring = new Uint8Array(workerData.ring);
parentPort.on("message", (message) => {
  if (message.type === "chunk") {
    hash.update(ring.subarray(message.start, message.start + message.length));
    parentPort.postMessage({ type: "ack", length: message.length });
  } else if (message.type === "digest") {
    parentPort.postMessage({ type: "digest", hex: hash.digest("hex") });
  }
});
`;

export interface Digests {
  sha256: string;
  sha512: string;
}

export interface StreamingHasher {
  /** Queues a chunk; resolves once it has been copied into the ring (waiting for room if needed). */
  update(chunk: Uint8Array): Promise<void>;
  digest(): Promise<Digests>;
  /** Stops the threads without a result (an aborted upload). */
  abort(): void;
  bytes(): number;
}

// 4 MiB holds four of the 1 MiB batches uploads arrive in: enough slack for the threads, and
// little memory per upload in flight.
export function createStreamingHasher({ ringBytes = 4 * 1024 * 1024 } = {}): StreamingHasher {
  const ring = new SharedArrayBuffer(ringBytes);
  const view = new Uint8Array(ring);
  const algorithms = ["sha256", "sha512"] as const;
  const workers = algorithms.map((algorithm) => new Worker(workerSource, { eval: true, workerData: { algorithm, ring } }));
  // Bytes both threads have finished with, and bytes handed to them: the ring holds the difference.
  const acked = workers.map(() => 0);
  let released = 0;
  let written = 0;
  let waiters: (() => void)[] = [];
  let failure: Error | null = null;

  const wake = () => {
    const ready = waiters;
    waiters = [];
    ready.forEach((resolve) => resolve());
  };

  workers.forEach((worker, index) => {
    worker.on("message", (message: { type: string; length?: number }) => {
      if (message.type !== "ack") return;
      acked[index] = (acked[index] ?? 0) + (message.length ?? 0);
      released = Math.min(...acked);
      wake();
    });
    worker.on("error", (error) => {
      failure = error;
      wake();
    });
  });

  const room = () => ringBytes - (written - released);

  async function place(piece: Uint8Array): Promise<void> {
    while (room() < piece.length) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    if (failure) throw failure;
    const start = written % ringBytes;
    view.set(piece, start);
    written += piece.length;
    for (const worker of workers) worker.postMessage({ type: "chunk", start, length: piece.length });
  }

  return {
    async update(chunk) {
      if (failure) throw failure;
      // Split so no piece wraps around the end of the ring or exceeds a quarter of it.
      let offset = 0;
      while (offset < chunk.length) {
        const start = written % ringBytes;
        const length = Math.min(chunk.length - offset, ringBytes - start, ringBytes / 4);
        await place(chunk.subarray(offset, offset + length));
        offset += length;
      }
    },
    async digest() {
      const results = await Promise.all(
        workers.map(
          (worker) =>
            new Promise<string>((resolve, reject) => {
              const onMessage = (message: { type: string; hex?: string }) => {
                if (message.type === "digest" && message.hex) {
                  worker.off("message", onMessage);
                  resolve(message.hex);
                }
              };
              worker.on("message", onMessage);
              worker.once("error", reject);
              worker.postMessage({ type: "digest" });
            }),
        ),
      );
      await Promise.all(workers.map((worker) => worker.terminate()));
      return { sha256: results[0]!, sha512: results[1]! };
    },
    abort() {
      for (const worker of workers) void worker.terminate();
    },
    bytes: () => written,
  };
}
