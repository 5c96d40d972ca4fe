// sha256 and sha512 of an import (sha256 alone for a file Hangar produced itself: its sha512 and
// md5 follow from the blob.checksums job), computed while the bytes arrive, in one pass that also
// feeds the inspector and the temp file. Bytes are copied once, into a ring of large slots in shared memory;
// each full slot then goes at the same time to two long-lived hash threads (one per digest), to the
// synchronous observer (the inspector) and to an optional sink (the temp file, written straight
// from the slot). A slot is reused only when all of them are done with it, so memory stays flat
// however fast the sender is. The threads start once per process: starting two workers per upload
// cost start-up time, and memory growth, each time.
//
// The ring is a shared WebAssembly.Memory rather than a SharedArrayBuffer because V8 maps it at a
// page boundary, and slots are multiples of 4 KiB: a sink can hand them to O_DIRECT writes (the
// temp file writer falls back to ordinary writes if the kernel refuses one anyway).
import { Worker } from "node:worker_threads";

const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const streams = new Map();
parentPort.on("message", (message) => {
  if (message.type === "open") {
    streams.set(message.id, { hash: createHash(workerData.algorithm), ring: new Uint8Array(message.ring) });
  } else if (message.type === "slot") {
    const stream = streams.get(message.id);
    if (!stream) return;
    stream.hash.update(stream.ring.subarray(message.start, message.start + message.length));
    parentPort.postMessage({ type: "ack", id: message.id, slot: message.slot });
  } else if (message.type === "digest") {
    const stream = streams.get(message.id);
    if (!stream) return;
    streams.delete(message.id);
    parentPort.postMessage({ type: "digest", id: message.id, hex: stream.hash.digest("hex") });
  } else if (message.type === "close") {
    streams.delete(message.id);
  }
});
`;

const algorithms = ["sha256", "sha512"] as const;

export interface Digests {
  sha256: string;
  /** Null when the stream was opened without it (`sha512: false`). */
  sha512: string | null;
}

interface StreamListener {
  ack(slot: number): void;
  digest(algorithm: number, hex: string): void;
  fail(error: Error): void;
}

/** The two hash threads every import in this process shares. */
class HashThreads {
  private workers: Worker[] | null = null;
  private readonly listeners = new Map<number, StreamListener>();
  private nextId = 1;

  /** Starts the threads ahead of the first upload, so it does not pay for their start-up. */
  start(): Worker[] {
    if (this.workers) return this.workers;
    const workers = algorithms.map((algorithm) => new Worker(workerSource, { eval: true, workerData: { algorithm } }));
    workers.forEach((worker, index) => {
      worker.on("message", (message: { type: string; id: number; slot?: number; hex?: string }) => {
        const listener = this.listeners.get(message.id);
        if (message.type === "ack") listener?.ack(message.slot!);
        else if (message.type === "digest") listener?.digest(index, message.hex!);
      });
      worker.on("error", (error) => this.lost(workers, error));
      worker.on("exit", () => this.lost(workers, new Error("a hash thread stopped")));
      // Idle threads must not keep a CLI or a test process alive; open streams hold them (below).
      worker.unref();
    });
    this.workers = workers;
    return workers;
  }

  private lost(workers: Worker[], error: Error) {
    if (this.workers !== workers) return;
    this.workers = null;
    for (const worker of workers) void worker.terminate();
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    for (const listener of listeners) listener.fail(error);
  }

  /** Opens a stream on the threads of `used` (indexes into `algorithms`). */
  open(ring: SharedArrayBuffer, listener: StreamListener, used: readonly number[]) {
    const all = this.start();
    const workers = used.map((index) => all[index]!);
    const id = this.nextId++;
    if (this.listeners.size === 0) for (const worker of all) worker.ref();
    this.listeners.set(id, listener);
    for (const worker of workers) worker.postMessage({ type: "open", id, ring });
    const release = () => {
      if (!this.listeners.delete(id)) return;
      if (this.listeners.size === 0 && this.workers === all) for (const worker of all) worker.unref();
    };
    return {
      slot(slot: number, start: number, length: number) {
        for (const worker of workers) worker.postMessage({ type: "slot", id, slot, start, length });
      },
      digest() {
        for (const worker of workers) worker.postMessage({ type: "digest", id });
      },
      close() {
        for (const worker of workers) worker.postMessage({ type: "close", id });
        release();
      },
    };
  }
}

const threads = new HashThreads();

const PAGE = 64 * 1024;
export const SLOT_ALIGNMENT = 4096;
// Four 4 MiB slots: big enough that the threads are woken rarely and the disk gets large writes,
// and 16 MiB per import in flight.
const DEFAULT_SLOT_BYTES = 4 * 1024 * 1024;
const DEFAULT_SLOTS = 4;
const DEFAULT_RING_BYTES = DEFAULT_SLOT_BYTES * DEFAULT_SLOTS;

// Rings are kept for the next import instead of being handed back to the allocator: touching fresh
// memory is what costs here, and a server that took one upload will take another.
const spareRings = new Map<number, SharedArrayBuffer[]>();
const MAX_SPARE_RINGS = 2;

function takeRing(bytes: number): SharedArrayBuffer {
  const spare = spareRings.get(bytes)?.pop();
  if (spare) return spare;
  const pages = Math.ceil(bytes / PAGE);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true })
    .buffer as unknown as SharedArrayBuffer;
}

function giveBackRing(ring: SharedArrayBuffer) {
  const spares = spareRings.get(ring.byteLength) ?? [];
  if (spares.length < MAX_SPARE_RINGS) spares.push(ring);
  spareRings.set(ring.byteLength, spares);
}

/**
 * Starts the hash threads now and readies one ring, its pages touched: the upload server calls this
 * at start-up so that the first upload neither waits for them nor grows the process while it runs.
 */
export function startHashThreads(): void {
  threads.start();
  if (!spareRings.get(DEFAULT_RING_BYTES)?.length) {
    const ring = takeRing(DEFAULT_RING_BYTES);
    new Uint8Array(ring).fill(0);
    giveBackRing(ring);
  }
}

/**
 * Where a full slot's bytes go besides the hashes, e.g. the temp file. `position` is the offset of
 * the slot's first byte in the stream. The slot is reused once the promise settles.
 */
export type SlotSink = (bytes: Uint8Array, position: number) => Promise<void>;

export interface StreamingHasher {
  /** Queues a chunk; resolves once it has been copied into the ring (waiting for room if needed). */
  update(chunk: Uint8Array): Promise<void>;
  /**
   * Lets `read` fill the free part of the current slot in place (no copy): it gets that part and
   * the stream position of its first byte, and resolves with how many bytes it put there (0 at the
   * end of its source). Resolves with that count.
   */
  fill(read: (target: Uint8Array, position: number) => Promise<number>): Promise<number>;
  /** Sends the bytes of this stream's slots to `sink` from now on (null: nowhere). */
  setSink(sink: SlotSink | null): void;
  /** Hands over the partly filled slot and waits until every slot handed over is done. */
  flush(): Promise<void>;
  digest(): Promise<Digests>;
  /** Stops without a result (an aborted upload). */
  abort(): void;
  bytes(): number;
}

export interface HasherOptions {
  /** Bytes per slot, a multiple of 4 KiB. */
  slotBytes?: number;
  slots?: number;
  /** Sees every byte, in order, as each slot is handed over (the inspector). */
  observe?: (bytes: Uint8Array) => void;
  /** Whether to compute sha512 too (default true); sha256 always is. */
  sha512?: boolean;
}

export function createStreamingHasher({
  slotBytes = DEFAULT_SLOT_BYTES,
  slots = DEFAULT_SLOTS,
  observe,
  sha512 = true,
}: HasherOptions = {}): StreamingHasher {
  const used = sha512 ? [0, 1] : [0];
  if (slotBytes % SLOT_ALIGNMENT !== 0 || slots < 2)
    throw new Error("slots must be a multiple of 4 KiB, and at least two");
  const ring = takeRing(slotBytes * slots);
  const view = new Uint8Array(ring, 0, slotBytes * slots);
  // Per slot: how many of the hash threads and the sink are still using it.
  const busy = new Array<number>(slots).fill(0);
  let current = 0;
  let filled = 0;
  let capacity = slotBytes;
  let handedOver = 0;
  let sink: SlotSink | null = null;
  let failure: Error | null = null;
  let closed = false;
  let waiters: (() => void)[] = [];
  const digests: string[] = [];
  let digested: { resolve: (digests: Digests) => void; reject: (error: Error) => void } | null = null;

  const wake = () => {
    const ready = waiters;
    waiters = [];
    ready.forEach((resolve) => resolve());
  };
  const fail = (error: Error) => {
    failure ??= error;
    digested?.reject(failure);
    wake();
  };
  const release = (slot: number) => {
    busy[slot] = (busy[slot] ?? 1) - 1;
    if (busy[slot] === 0) wake();
  };

  const stream = threads.open(
    ring,
    {
      ack: release,
      digest(algorithm, hex) {
        digests[algorithm] = hex;
        if (digests[0] && (!sha512 || digests[1]))
          digested?.resolve({ sha256: digests[0], sha512: digests[1] ?? null });
      },
      fail,
    },
    used,
  );

  const waitFor = async (ready: () => boolean) => {
    while (!ready()) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    if (failure) throw failure;
  };

  /** A slot is handed over whole; the next slot starts on a 4 KiB boundary of the stream when it can. */
  const handOver = () => {
    if (filled === 0) return;
    const slot = current;
    const start = slot * slotBytes;
    const bytes = view.subarray(start, start + filled);
    const position = handedOver;
    observe?.(bytes);
    busy[slot] = used.length + (sink ? 1 : 0);
    stream.slot(slot, start, filled);
    if (sink) {
      sink(bytes, position).then(
        () => release(slot),
        (error: Error) => {
          fail(error);
          release(slot);
        },
      );
    }
    handedOver += filled;
    current = (current + 1) % slots;
    filled = 0;
    // After a short slot (a flush mid-stream), a shorter next slot brings the stream back into line.
    capacity = slotBytes - (handedOver % SLOT_ALIGNMENT);
  };

  const slotReady = () => busy[current] === 0;

  return {
    async update(chunk) {
      if (failure) throw failure;
      let offset = 0;
      while (offset < chunk.length) {
        await waitFor(slotReady);
        const take = Math.min(chunk.length - offset, capacity - filled);
        view.set(chunk.subarray(offset, offset + take), current * slotBytes + filled);
        filled += take;
        offset += take;
        if (filled === capacity) handOver();
      }
    },
    async fill(read) {
      await waitFor(slotReady);
      const start = current * slotBytes + filled;
      const count = await read(view.subarray(start, current * slotBytes + capacity), handedOver + filled);
      filled += count;
      if (filled === capacity) handOver();
      return count;
    },
    setSink(next) {
      sink = next;
    },
    async flush() {
      if (failure) throw failure;
      handOver();
      await waitFor(() => busy.every((count) => count === 0));
    },
    async digest() {
      if (failure) throw failure;
      handOver();
      const result = new Promise<Digests>((resolve, reject) => (digested = { resolve, reject }));
      stream.digest();
      try {
        const hashes = await result;
        // The threads are done with every slot; a sink may still be writing the last ones.
        await waitFor(() => busy.every((count) => count === 0));
        giveBackRing(ring);
        return hashes;
      } finally {
        closed = true;
        stream.close();
      }
    },
    abort() {
      if (closed) return;
      closed = true;
      stream.close();
      fail(new Error("the hasher was aborted"));
      // The threads may still be reading slots that were handed over; this ring is not reused.
    },
    bytes: () => handedOver + filled,
  };
}
