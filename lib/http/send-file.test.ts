import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOB_SENDER_HEADER, nameBlob, SEND_BLOB_HEADER, sendNamedBlobs } from "./send-file";

// A route's answer that names a blob is sent by the server from the file, with the route's headers
// and without the naming header; anything else passes through untouched.
describe("sendNamedBlobs", () => {
  const bytes = randomBytes(5 * 1024 * 1024 + 123);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const missing = "0".repeat(64);
  const errors: unknown[] = [];
  const senders: (string | undefined)[] = [];
  // Where the named bytes come from: a file on this machine, or a stream (a bucket) that may fail.
  let source: "file" | "stream" | "failing" = "file";
  let dir: string;
  let server: http.Server;
  let origin: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "send-file-"));
    await writeFile(path.join(dir, sha256), bytes);
    server = http.createServer((req, res) => {
      sendNamedBlobs(req, res, {
        openBlob: async ({ sha256: name, start, end }) => {
          if (name === missing) throw new Error("blob is not in the store");
          if (source === "file") return { file: path.join(dir, name) };
          const stream = createReadStream(path.join(dir, name), { start, end });
          if (source === "stream") return { stream };
          // A bucket that fails part-way: some bytes, then an error.
          return {
            stream: Readable.from(
              (async function* () {
                let sent = 0;
                for await (const chunk of stream) {
                  yield chunk;
                  sent += (chunk as Buffer).length;
                  if (sent > 1024 * 1024) throw new Error("connection to the bucket reset");
                }
              })(),
            ),
          };
        },
        onError: (error) => errors.push(error),
      });
      senders.push(req.headers[BLOB_SENDER_HEADER] as string | undefined);
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/plain") return void res.end("plain answer");
      if (url.pathname === "/wrapped") {
        // Next.js's compression wraps the response after the server did, keeping the functions it
        // found, and ends through the implicit header.
        const { end, writeHead } = res;
        res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
          return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
        } as typeof res.writeHead;
        res.end = function (this: http.ServerResponse & { _implicitHeader(): void }) {
          if (!this.headersSent) this._implicitHeader();
          return (end as () => http.ServerResponse).call(this);
        } as typeof res.end;
        res.setHeader(SEND_BLOB_HEADER, nameBlob({ sha256, start: 0, end: bytes.length - 1 }));
        res.end();
        return;
      }
      if (url.pathname === "/framework") {
        // What Next.js does with a route's answer: its Content-Length dropped, headers flushed, an
        // empty body piped, then ended.
        res.statusCode = 200;
        res.setHeader(SEND_BLOB_HEADER, nameBlob({ sha256, start: 0, end: bytes.length - 1 }));
        res.flushHeaders();
        res.write(Buffer.alloc(0));
        res.end();
        return;
      }
      const start = Number(url.searchParams.get("start") ?? 0);
      const end = Number(url.searchParams.get("end") ?? bytes.length - 1);
      const name = url.pathname === "/missing" ? missing : sha256;
      res.statusCode = url.searchParams.has("start") ? 206 : 200;
      res.setHeader("Content-Length", String(end - start + 1));
      res.setHeader("ETag", `"${name}"`);
      res.setHeader(SEND_BLOB_HEADER, nameBlob({ sha256: name, start, end }));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("sends the whole named blob with the route's headers, and not the naming header", async () => {
    const response = await fetch(`${origin}/blob`, { headers: { [BLOB_SENDER_HEADER]: "0" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe(`"${sha256}"`);
    expect(response.headers.get(SEND_BLOB_HEADER)).toBeNull();
    const received = Buffer.from(await response.arrayBuffer());
    expect(received.length).toBe(bytes.length);
    expect(createHash("sha256").update(received).digest("hex")).toBe(sha256);
    // Whatever the client sent under the sender's name, the server's own mark wins.
    expect(senders.at(-1)).toBe("1");
  });

  it("sends a range across the loop's buffer seams", async () => {
    const start = 2 * 1024 * 1024 - 7;
    const end = 4 * 1024 * 1024 + 9;
    const response = await fetch(`${origin}/blob?start=${start}&end=${end}`);
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  it("takes over from a framework that flushes headers and pipes an empty body, restoring Content-Length", async () => {
    for (const [where, method] of [
      ["framework", "GET"],
      ["framework", "HEAD"],
      ["wrapped", "GET"],
    ]) {
      const response = await fetch(`${origin}/${where}`, { method });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-length")).toBe(String(bytes.length));
      expect(response.headers.get(SEND_BLOB_HEADER)).toBeNull();
      const received = Buffer.from(await response.arrayBuffer());
      expect(received.length).toBe(method === "HEAD" ? 0 : bytes.length);
      if (method === "GET") expect(received.equals(bytes)).toBe(true);
    }
  });

  it("sends a stream's bytes when the blob is not on this machine, whole and in a range", async () => {
    source = "stream";
    try {
      const whole = await fetch(`${origin}/blob`);
      expect(whole.headers.get("content-length")).toBe(String(bytes.length));
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
      const ranged = await fetch(`${origin}/blob?start=1000&end=3000000`);
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(1000, 3000001))).toBe(true);
    } finally {
      source = "file";
    }
  });

  it("ends the answer short when the stream fails part-way, never passing it off as whole", async () => {
    source = "failing";
    const before = errors.length;
    try {
      const response = await fetch(`${origin}/blob`);
      expect(response.status).toBe(200);
      await expect(response.arrayBuffer()).rejects.toThrow();
      await expect.poll(() => errors.length).toBe(before + 1);
    } finally {
      source = "file";
    }
  });

  it("answers HEAD with the headers only", async () => {
    const response = await fetch(`${origin}/blob`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(bytes.length));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers a plain 500 when the named blob cannot be read, and reports it", async () => {
    const before = errors.length;
    const response = await fetch(`${origin}/missing`);
    expect(response.status).toBe(500);
    expect(response.headers.get("etag")).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: "internal" } });
    expect(errors.length).toBe(before + 1);
  });

  it("leaves an answer that names no blob alone", async () => {
    const response = await fetch(`${origin}/plain`);
    expect(await response.text()).toBe("plain answer");
  });
});
