// How `hangar push` feeds tus-js-client: a file source and an HTTP stack, the two places the library
// lets a program bring its own. Its built-in ones read the file in 64 KiB pieces through two
// Transform streams, each piece in a fresh buffer; pushing ran at 60% of the rate the browser's
// upload reaches on the same machine. Here each part is read into two buffers that take turns (one
// is read while the other is on the socket), as the import bench sends a file.
//
// With `hashing` (push --verify) the same loop hashes every byte on its way out, so the file is
// still read once. The whole file's sha256 is known when the last part is cut; push sends it with
// that part (Hangar-Expected-Sha256) and the server refuses the file if the bytes it received differ.
import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { HttpRequest, HttpResponse, HttpStack } from "tus-js-client";

const BUFFER_BYTES = 8 * 1024 * 1024;

/** Bytes [start, end) of the pushed file: what a slice hands to the HTTP stack below. */
export class FilePart {
  constructor(
    readonly source: HashingFileSource,
    readonly start: number,
    readonly end: number,
  ) {}
  get size() {
    return this.end - this.start;
  }
}

export class HashingFileSource {
  private hash: Hash = createHash("sha256");
  /** Bytes [0, hashedTo) of the file have gone into `hash`, in order. */
  private hashedTo = 0;
  /** The whole file's sha256, once the last part has been cut. */
  sha256: string | null = null;
  /** Where the last part starts: the PATCH sending it carries `sha256`. */
  lastPartStart: number | null = null;

  constructor(
    readonly file: string,
    readonly size: number,
    readonly hashing: boolean,
  ) {}

  /** The part [start, end), as tus-js-client asks for it; `done` on the last one. */
  async slice(start: number, end: number): Promise<{ value: FilePart; done: boolean }> {
    end = Math.min(end, this.size);
    // A resumed upload starts past bytes this run never read, and a retried part repeats bytes
    // already hashed: either way the running hash is rebuilt from the file up to `start`.
    if (this.hashing && start !== this.hashedTo) await this.rehashUpTo(start);
    const done = end >= this.size;
    if (this.hashing && done) {
      // A request's headers go before its bytes, so the last part is hashed before it is sent
      // (read twice; push cuts the file so that this part is one byte unless --chunk-size says otherwise).
      await this.read(start, end, () => {});
      this.sha256 = this.hash.digest("hex");
      this.lastPartStart = start;
    }
    return { value: new FilePart(this, start, end), done };
  }

  close() {}

  /**
   * Reads [start, end) in order into two buffers that take turns, handing each filled one to `consume`;
   * a buffer is read into again only once the promise `consume` returned for it has settled.
   */
  async read(start: number, end: number, consume: (bytes: Buffer) => Promise<void> | void): Promise<void> {
    const handle = await open(this.file, "r");
    try {
      const bytes = Math.max(1, Math.min(BUFFER_BYTES, end - start));
      const buffers = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
      const used: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
      // A failed consume (the socket closed) is kept here, not left as a rejection nobody awaits yet.
      const failures: unknown[] = [];
      for (let position = start, turn = 0; position < end; turn ^= 1) {
        await used[turn];
        if (failures.length) throw failures[0];
        const { bytesRead } = await handle.read(buffers[turn]!, 0, Math.min(bytes, end - position), position);
        if (bytesRead === 0) throw new Error(`${this.file} became shorter while it was being pushed.`);
        const chunk = buffers[turn]!.subarray(0, bytesRead);
        // Hashed only while the parts come in order from where the hash stands.
        if (this.hashing && position === this.hashedTo && !this.sha256) {
          this.hash.update(chunk);
          this.hashedTo += bytesRead;
        }
        position += bytesRead;
        used[turn] = Promise.resolve(consume(chunk)).catch((error: unknown) => {
          failures.push(error);
        });
      }
      await Promise.all(used);
      if (failures.length) throw failures[0];
    } finally {
      await handle.close();
    }
  }

  private async rehashUpTo(offset: number) {
    this.hash = createHash("sha256");
    this.hashedTo = 0;
    this.sha256 = null;
    if (offset > 0) await this.read(0, offset, () => {});
  }
}

class NodeResponse implements HttpResponse {
  constructor(
    private readonly response: http.IncomingMessage,
    private readonly body: string,
  ) {}
  getStatus() {
    return this.response.statusCode ?? 0;
  }
  getHeader(header: string) {
    const value = this.response.headers[header.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : value;
  }
  getBody() {
    return this.body;
  }
  getUnderlyingObject() {
    return this.response;
  }
}

class NodeRequest implements HttpRequest {
  private readonly headers: Record<string, string> = {};
  private progress: (bytesSent: number) => void = () => {};
  private outgoing: http.ClientRequest | null = null;

  constructor(
    private readonly method: string,
    private readonly url: string,
  ) {}
  getMethod() {
    return this.method;
  }
  getURL() {
    return this.url;
  }
  setHeader(header: string, value: string) {
    this.headers[header] = value;
  }
  getHeader(header: string) {
    return this.headers[header];
  }
  setProgressHandler(handler: (bytesSent: number) => void) {
    this.progress = handler;
  }
  getUnderlyingObject() {
    return this.outgoing;
  }
  async abort() {
    this.outgoing?.destroy();
  }

  send(body?: unknown): Promise<HttpResponse> {
    if (body !== undefined && body !== null && !(body instanceof FilePart))
      return Promise.reject(new Error("hangar push sends only parts of its file."));
    const part = body ?? null;
    const headers = { ...this.headers, ...(part ? { "Content-Length": String(part.size) } : {}) };
    const transport = this.url.startsWith("https:") ? https : http;
    return new Promise((resolve, reject) => {
      let answered = false;
      const outgoing = transport.request(this.url, { method: this.method, headers }, (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve(new NodeResponse(response, Buffer.concat(chunks).toString("utf8"))));
        response.on("error", reject);
      });
      this.outgoing = outgoing;
      // A server that answers before taking the whole body (a refusal) ends the sending with an error.
      outgoing.on("error", (error) => {
        if (!answered) reject(error);
      });
      if (!part) {
        outgoing.end();
        return;
      }
      let sent = 0;
      part.source
        .read(
          part.start,
          part.end,
          (chunk) =>
            new Promise<void>((written, failed) => {
              outgoing.write(chunk, (error) => {
                if (error) return failed(error);
                sent += chunk.byteLength;
                this.progress(sent);
                written();
              });
            }),
        )
        .then(
          () => outgoing.end(),
          (error: Error) => outgoing.destroy(error),
        );
    });
  }
}

/** tus-js-client's requests over node:http, sending FileParts with the loop above. */
export const filePartHttpStack: HttpStack = {
  createRequest: (method, url) => new NodeRequest(method, url),
  getName: () => "hangar-push",
};
