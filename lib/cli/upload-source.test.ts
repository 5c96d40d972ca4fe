import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filePartHttpStack, HashingFileSource, type FilePart } from "./upload-source";

// Larger than the two 8 MiB buffers together, so parts take several turns.
const data = randomBytes(20 * 1024 * 1024 + 123);
const whole = createHash("sha256").update(data).digest("hex");
let file: string;

async function collect(part: FilePart): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await part.source.read(part.start, part.end, (bytes) => {
    chunks.push(Buffer.from(bytes));
  });
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  file = path.join(await mkdtemp(path.join(os.tmpdir(), "hangar-upload-source-")), "disk.raw");
  await writeFile(file, data);
});

describe("push's file source", () => {
  it("hands out the parts asked for and knows the whole file's sha256 when the last one is cut", async () => {
    const source = new HashingFileSource(file, data.length, true);
    const first = await source.slice(0, 9 * 1024 * 1024);
    expect(first.done).toBe(false);
    expect((await collect(first.value)).equals(data.subarray(0, 9 * 1024 * 1024))).toBe(true);
    expect(source.sha256).toBeNull();
    const last = await source.slice(9 * 1024 * 1024, Number.POSITIVE_INFINITY);
    expect(last).toMatchObject({ done: true });
    expect(last.value.size).toBe(data.length - 9 * 1024 * 1024);
    expect(source.sha256).toBe(whole);
    expect(source.lastPartStart).toBe(9 * 1024 * 1024);
    // Sending the last part after its hash was taken changes nothing.
    expect((await collect(last.value)).equals(data.subarray(9 * 1024 * 1024))).toBe(true);
    expect(source.sha256).toBe(whole);
  });

  it("rebuilds its hash when a part is sent again or an upload resumes part-way", async () => {
    const retried = new HashingFileSource(file, data.length, true);
    const part = await retried.slice(0, 12 * 1024 * 1024);
    // The connection drops after the first buffer: that buffer was hashed, the rest never read.
    await expect(
      retried.read(part.value.start, part.value.end, () => Promise.reject(new Error("connection reset"))),
    ).rejects.toThrow("connection reset");
    await collect((await retried.slice(0, 12 * 1024 * 1024)).value);
    await retried.slice(12 * 1024 * 1024, data.length);
    expect(retried.sha256).toBe(whole);

    const resumed = new HashingFileSource(file, data.length, true);
    await collect((await resumed.slice(5 * 1024 * 1024 + 7, 15 * 1024 * 1024)).value);
    await resumed.slice(15 * 1024 * 1024, data.length);
    expect(resumed.sha256).toBe(whole);
  });

  it("hashes nothing without --verify", async () => {
    const source = new HashingFileSource(file, data.length, false);
    const only = await source.slice(0, Number.POSITIVE_INFINITY);
    expect(only.done).toBe(true);
    expect((await collect(only.value)).equals(data)).toBe(true);
    expect(source.sha256).toBeNull();
  });
});

describe("push's HTTP stack", () => {
  let server: http.Server;
  let base: string;
  const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/refuse") {
        // Answers before the body arrives, as the upload server does with a refusal.
        res.writeHead(401, { "Content-Type": "application/json" }).end('{"error":{"message":"no"}}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204, { "Upload-Offset": String(Buffer.concat(chunks).length) }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends a part with its length and headers, and reports progress up to its size", async () => {
    const source = new HashingFileSource(file, data.length, false);
    const { value } = await source.slice(1000, 17 * 1024 * 1024);
    const request = filePartHttpStack.createRequest("PATCH", `${base}/upload`);
    request.setHeader("Upload-Offset", "1000");
    const progress: number[] = [];
    request.setProgressHandler((bytes) => progress.push(bytes));
    const response = await request.send(value);
    expect(response.getStatus()).toBe(204);
    expect(response.getHeader("Upload-Offset")).toBe(String(value.size));
    const last = received.at(-1)!;
    expect(last.headers["content-length"]).toBe(String(value.size));
    expect(last.headers["upload-offset"]).toBe("1000");
    expect(last.body.equals(data.subarray(1000, 17 * 1024 * 1024))).toBe(true);
    expect(progress.at(-1)).toBe(value.size);
  });

  it("gives tus the server's early refusal, not the broken pipe it caused", async () => {
    const source = new HashingFileSource(file, data.length, false);
    const { value } = await source.slice(0, data.length);
    const response = await filePartHttpStack.createRequest("PATCH", `${base}/refuse`).send(value);
    expect(response.getStatus()).toBe(401);
    expect(response.getBody()).toContain("no");
  });
});
