import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { IngestSession } from "./ingest";
import { openTempFileWriter } from "./temp-file-writer";

const tempFile = async () => {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "hangar-writer-")), "upload");
  await writeFile(file, "");
  return file;
};

describe("openTempFileWriter", () => {
  it("writes aligned and unaligned pieces from the ingest ring into one identical file", async () => {
    const file = await tempFile();
    const data = randomBytes(9 * 1024 * 1024 + 123);
    const session = new IngestSession(null);
    // Three requests ending at odd offsets, as a resumed upload's would.
    for (const [from, to] of [
      [0, 5000],
      [5000, 4 * 1024 * 1024 + 17],
      [4 * 1024 * 1024 + 17, data.length],
    ] as const) {
      const writer = await openTempFileWriter(file);
      session.writeTo(writer);
      for (let offset = from; offset < to; offset += 65536)
        await session.write(data.subarray(offset, Math.min(offset + 65536, to)));
      await session.flush();
      session.writeTo(null);
      await writer.close();
      expect(writer.bytesWritten).toBe(to - from);
    }
    expect((await readFile(file)).equals(data)).toBe(true);
    const result = await session.finish();
    const rebuilt = await (await IngestSession.fromFile(file, data.length, null)).finish();
    expect(rebuilt).toEqual(result);
  });

  it("rebuilds a session from only the first bytes of a longer file", async () => {
    const file = await tempFile();
    const data = randomBytes(3 * 4096 + 5);
    await writeFile(file, data);
    const session = await IngestSession.fromFile(file, 4096 + 1, null);
    const expected = new IngestSession(null);
    await expected.write(data.subarray(0, 4096 + 1));
    expect(await session.finish()).toEqual(await expected.finish());
  });
});
