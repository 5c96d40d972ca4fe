// A real HTTP server on 127.0.0.1 that records what webhooks send it, for tests, e2e and the bench.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: {
    id: string;
    type: string;
    createdAt: string;
    project: unknown;
    actor: unknown;
    data: Record<string, unknown>;
  };
  receivedAt: number;
}

/** How to answer the n-th request (0-based): a status, or "hang" to never answer. */
export type Answer = (index: number) => number | "hang";

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  close: () => Promise<void>;
}

export function verifySignature(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== "string") return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function startWebhookReceiver({
  answer = () => 200,
  path = "/hook",
}: { answer?: Answer; path?: string } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let index = 0;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({
        headers: request.headers,
        body,
        json: JSON.parse(body.toString("utf8")),
        receivedAt: Date.now(),
      });
      const status = answer(index);
      index += 1;
      if (status === "hang") {
        hanging.add(response);
        return;
      }
      response.writeHead(status, { "content-type": "text/plain" });
      response.end(status >= 200 && status < 300 ? "thanks" : `receiver says ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
