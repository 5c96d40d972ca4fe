// sha256 and sha512 of an upload, computed while the bytes arrive. Each digest runs in its own
// worker thread so hashing overlaps with the network and the disk instead of adding to them; each
// chunk is copied once into shared memory that both threads read. In-flight bytes are bounded, so
// memory stays flat however fast the sender is.
import { Worker } from "node:worker_threads";

const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hash = createHash(workerData.algorithm);
parentPort.on("message", (message) => {
  if (message.type === "chunk") {
    hash.update(new Uint8Array(message.buffer, 0, message.length));
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
  /** Queues a chunk; resolves at once unless too many bytes are in flight. */
  update(chunk: Uint8Array): Promise<void>;
  digest(): Promise<Digests>;
  /** Stops the threads without a result (an aborted upload). */
  abort(): void;
  bytes(): number;
}

export function createStreamingHasher({ maxInFlightBytes = 32 * 1024 * 1024 } = {}): StreamingHasher {
  const algorithms = ["sha256", "sha512"] as const;
  const workers = algorithms.map((algorithm) => new Worker(workerSource, { eval: true, workerData: { algorithm } }));
  // A chunk's memory is released once every thread has acknowledged it (acks come in order).
  const acked = workers.map(() => 0);
  const unreleasedLengths: number[] = [];
  let released = 0;
  let inFlight = 0;
  let total = 0;
  let waiters: (() => void)[] = [];
  let failure: Error | null = null;

  const wake = () => {
    const ready = waiters;
    waiters = [];
    ready.forEach((resolve) => resolve());
  };

  workers.forEach((worker, index) => {
    worker.on("message", (message: { type: string }) => {
      if (message.type !== "ack") return;
      acked[index] = (acked[index] ?? 0) + 1;
      const everyoneAcked = Math.min(...acked);
      while (released < everyoneAcked) {
        inFlight -= unreleasedLengths.shift() ?? 0;
        released += 1;
      }
      if (inFlight <= maxInFlightBytes) wake();
    });
    worker.on("error", (error) => {
      failure = error;
      wake();
    });
  });

  return {
    async update(chunk) {
      if (failure) throw failure;
      if (chunk.byteLength === 0) return;
      const shared = new SharedArrayBuffer(chunk.byteLength);
      new Uint8Array(shared).set(chunk);
      unreleasedLengths.push(chunk.byteLength);
      inFlight += chunk.byteLength;
      total += chunk.byteLength;
      for (const worker of workers) worker.postMessage({ type: "chunk", buffer: shared, length: chunk.byteLength });
      if (inFlight > maxInFlightBytes) await new Promise<void>((resolve) => waiters.push(resolve));
      if (failure) throw failure;
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
    bytes: () => total,
  };
}
