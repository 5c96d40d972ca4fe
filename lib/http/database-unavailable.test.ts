// A page that fails while PostgreSQL is away answers 503 with Retry-After, not Next's 500; a page
// that fails for any other reason keeps its 500.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { markDatabaseAvailable, markDatabaseUnavailable } from "@/db/health";
import { answerOutageErrorsAs503 } from "./database-unavailable";

describe("answerOutageErrorsAs503", () => {
  // Stands in for Next: the error page is written with an implicit head (statusCode, then end) or
  // an explicit writeHead.
  const server = http.createServer((req, res) => {
    answerOutageErrorsAs503(res);
    if (req.url === "/explicit") {
      res.writeHead(500, { "Content-Type": "text/html" }).end("error page");
    } else if (req.url === "/ok") {
      res.end("fine");
    } else {
      res.statusCode = 500;
      res.end("error page");
    }
  });
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => markDatabaseAvailable());
  afterAll(() => server.close());

  it("turns a 500 written during an outage into a 503 with Retry-After", async () => {
    markDatabaseUnavailable("test outage");
    for (const route of ["/implicit", "/explicit"]) {
      const response = await fetch(`${base}${route}`);
      expect(response.status, route).toBe(503);
      expect(response.headers.get("retry-after"), route).toBe("5");
      expect(await response.text()).toBe("error page");
    }
    expect((await fetch(`${base}/ok`)).status).toBe(200);
  });

  it("leaves a 500 alone while the database is up", async () => {
    const response = await fetch(`${base}/implicit`);
    expect(response.status).toBe(500);
    expect(response.headers.get("retry-after")).toBeNull();
  });
});
