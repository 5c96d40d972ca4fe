import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createStreamingHasher } from "./hasher";

describe("createStreamingHasher", () => {
  it.each([17, 512, 65536, 1024 * 1024])("matches node:crypto whatever the chunk size (%i)", async (chunkSize) => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const hasher = createStreamingHasher({ slotBytes: 64 * 1024, slots: 4 });
    for (let offset = 0; offset < data.length; offset += chunkSize)
      await hasher.update(data.subarray(offset, offset + chunkSize));
    expect(hasher.bytes()).toBe(data.length);
    expect(await hasher.digest()).toEqual({
      sha256: createHash("sha256").update(data).digest("hex"),
      sha512: createHash("sha512").update(data).digest("hex"),
    });
  });

  it("hashes sha256 alone when sha512 is not wanted (a file Hangar produced; blob.checksums adds it later)", async () => {
    const data = randomBytes(512 * 1024 + 7);
    const hasher = createStreamingHasher({ slotBytes: 64 * 1024, slots: 2, sha512: false });
    await hasher.update(data);
    expect(await hasher.digest()).toEqual({ sha256: createHash("sha256").update(data).digest("hex"), sha512: null });
    // The shared threads still serve a full stream afterwards.
    const both = createStreamingHasher({ slotBytes: 64 * 1024, slots: 2 });
    await both.update(data);
    expect((await both.digest()).sha512).toBe(createHash("sha512").update(data).digest("hex"));
  });

  it("hashes the empty input", async () => {
    const hasher = createStreamingHasher();
    await hasher.update(new Uint8Array(0));
    expect((await hasher.digest()).sha256).toBe(createHash("sha256").digest("hex"));
  });

  it("does not keep the caller's buffer: later changes to it don't alter the digest", async () => {
    const chunk = Buffer.alloc(1024, 1);
    const hasher = createStreamingHasher();
    await hasher.update(chunk);
    chunk.fill(2);
    expect((await hasher.digest()).sha256).toBe(createHash("sha256").update(Buffer.alloc(1024, 1)).digest("hex"));
  });
});

describe("createStreamingHasher slots", () => {
  it("hands every byte to the sink once, at its position in the stream, and hashes the same bytes", async () => {
    const data = randomBytes(1024 * 1024 + 4321);
    const copy = Buffer.alloc(data.length);
    let written = 0;
    const hasher = createStreamingHasher({ slotBytes: 64 * 1024, slots: 3 });
    hasher.setSink(async (bytes, position) => {
      copy.set(bytes, position);
      written += bytes.length;
    });
    for (let offset = 0; offset < data.length; offset += 5000)
      await hasher.update(data.subarray(offset, offset + 5000));
    await hasher.flush();
    expect(written).toBe(data.length);
    expect(copy.equals(data)).toBe(true);
    expect((await hasher.digest()).sha512).toBe(createHash("sha512").update(data).digest("hex"));
  });

  it("starts the slot after a mid-stream flush so the following ones begin on a 4 KiB boundary", async () => {
    const positions: number[] = [];
    const hasher = createStreamingHasher({ slotBytes: 64 * 1024, slots: 2 });
    hasher.setSink(async (bytes, position) => void positions.push(position, bytes.length));
    await hasher.update(Buffer.alloc(1000));
    await hasher.flush();
    await hasher.update(Buffer.alloc(200 * 1024));
    await hasher.flush();
    expect(positions.slice(0, 6)).toEqual([0, 1000, 1000, 64 * 1024 - 1000, 64 * 1024, 64 * 1024]);
    await hasher.digest();
  });

  it("lets a reader fill the slots in place", async () => {
    const data = randomBytes(300 * 1024 + 7);
    const hasher = createStreamingHasher({ slotBytes: 64 * 1024, slots: 2 });
    let position = 0;
    for (;;) {
      const count = await hasher.fill(async (target, at) => {
        const take = Math.min(target.length, data.length - at, 10_000);
        target.set(data.subarray(at, at + take));
        return take;
      });
      if (count === 0) break;
      position += count;
    }
    expect(position).toBe(data.length);
    expect((await hasher.digest()).sha256).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("reports a sink's failure instead of a digest", async () => {
    const hasher = createStreamingHasher({ slotBytes: 64 * 1024, slots: 2 });
    hasher.setSink(async () => {
      throw new Error("disk full");
    });
    await hasher.update(Buffer.alloc(64 * 1024));
    await expect(hasher.flush()).rejects.toThrow("disk full");
    await expect(hasher.digest()).rejects.toThrow("disk full");
  });
});
