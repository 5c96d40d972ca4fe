import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createStreamingHasher } from "./hasher";

describe("createStreamingHasher", () => {
  it.each([17, 512, 65536, 1024 * 1024])("matches node:crypto whatever the chunk size (%i)", async (chunkSize) => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const hasher = createStreamingHasher({ ringBytes: 256 * 1024 });
    for (let offset = 0; offset < data.length; offset += chunkSize) await hasher.update(data.subarray(offset, offset + chunkSize));
    expect(hasher.bytes()).toBe(data.length);
    expect(await hasher.digest()).toEqual({
      sha256: createHash("sha256").update(data).digest("hex"),
      sha512: createHash("sha512").update(data).digest("hex"),
    });
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
