import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUrl, defaultUrlPolicy, globalAddress, openUrl, UrlRefused, type UrlPolicy } from "./url-fetch";

const publicResolver = async () => ["93.184.216.34"];

async function refusal(promise: Promise<unknown>): Promise<UrlRefused> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UrlRefused) return error;
    throw error;
  }
  throw new Error("expected the URL to be refused");
}

describe("checkUrl", () => {
  const blockedLiterals = [
    "http://127.0.0.1/x.img",
    "http://127.1/x.img",
    "http://0x7f.1/x.img",
    "http://0x7f000001/x.img",
    "http://2130706433/x.img",
    "http://0177.0.0.1/x.img",
    "http://%31%32%37.0.0.1/x.img",
    "http://0.0.0.0/x.img",
    "http://[::1]/x.img",
    "http://[::]/x.img",
    "http://[::ffff:127.0.0.1]/x.img",
    "http://[::ffff:7f00:1]/x.img",
    "http://[::ffff:169.254.169.254]/x.img",
    "http://[64:ff9b::7f00:1]/x.img",
    "http://[2002:7f00:1::1]/x.img",
    "http://[fe80::1]/x.img",
    "http://[fd00:ec2::254]/x.img",
    "http://10.0.0.1/x.img",
    "http://172.16.5.4/x.img",
    "http://192.168.1.1/x.img",
    "http://100.64.0.1/x.img",
    "http://169.254.169.254/latest/meta-data/",
    "http://224.0.0.1/x.img",
    "http://255.255.255.255/x.img",
    "http://198.18.0.1/x.img",
  ];

  it.each(blockedLiterals)("refuses %s", async (url) => {
    const error = await refusal(checkUrl(url, defaultUrlPolicy, publicResolver));
    expect(error.userMessage).toMatch(/private or internal address/);
  });

  it("refuses names that resolve to an internal address, or to any internal address among several", async () => {
    expect(
      (await refusal(checkUrl("http://metadata.internal/x", defaultUrlPolicy, async () => ["169.254.169.254"])))
        .userMessage,
    ).toMatch(/internal/);
    expect(
      (await refusal(checkUrl("http://localhost/x", defaultUrlPolicy, async () => ["::1", "127.0.0.1"]))).userMessage,
    ).toMatch(/internal/);
    expect(
      (await refusal(checkUrl("http://mixed.example/x", defaultUrlPolicy, async () => ["93.184.216.34", "10.1.2.3"])))
        .userMessage,
    ).toMatch(/internal/);
    expect((await refusal(checkUrl("http://nowhere.example/x", defaultUrlPolicy, async () => []))).userMessage).toMatch(
      /could not be found/,
    );
  });

  it.each([
    ["file:///etc/passwd", /Only http/],
    ["ftp://ftp.example.org/x.img", /Only http/],
    ["gopher://example.org/", /Only http/],
    ["data:text/plain,hello", /Only http/],
    ["http://user:pass@example.org/x.img", /user name or password/],
    ["http://user@example.org/x.img", /user name or password/],
    ["http://example.org:8080/x.img", /Only ports 80 and 443/],
    ["https://example.org:22/x.img", /Only ports 80 and 443/],
    ["not a url", /not a valid URL/],
  ])("refuses %s", async (url, message) => {
    expect((await refusal(checkUrl(url, defaultUrlPolicy, publicResolver))).userMessage).toMatch(message);
  });

  it("accepts a public address and pins it", async () => {
    const target = await checkUrl("https://images.example.org/debian.qcow2", defaultUrlPolicy, publicResolver);
    expect(target).toMatchObject({ address: "93.184.216.34", port: 443 });
  });

  it("unwraps IPv4-mapped IPv6 before classifying", () => {
    expect(globalAddress("::ffff:8.8.8.8", defaultUrlPolicy)).toBe("8.8.8.8");
    expect(globalAddress("::ffff:10.0.0.1", defaultUrlPolicy)).toBeNull();
    expect(globalAddress("2606:4700::1111", defaultUrlPolicy)).toBe("2606:4700::1111");
  });
});

describe("openUrl against real servers on loopback", () => {
  let imageServer: http.Server;
  let redirector: http.Server;
  let imagePort = 0;
  let redirectPort = 0;
  const payload = Buffer.alloc(256 * 1024, 7);

  const listen = (server: http.Server) =>
    new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
    );

  beforeAll(async () => {
    imageServer = http.createServer((request, response) => {
      if (request.url === "/secret") {
        response.writeHead(403, { "content-type": "text/plain" }).end("internal secret body");
        return;
      }
      response.writeHead(200, { "content-length": payload.length }).end(payload);
    });
    imagePort = await listen(imageServer);
    redirector = http.createServer((request, response) => {
      const to: Record<string, string> = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-loopback-v6": `http://[::1]:${imagePort}/image`,
        "/to-file": "file:///etc/passwd",
        "/to-image": `http://127.0.0.1:${imagePort}/image`,
        "/loop": `http://127.0.0.1:${redirectPort}/loop`,
      };
      response.writeHead(302, { location: to[request.url ?? ""] ?? "/" }).end();
    });
    redirectPort = await listen(redirector);
  });

  afterAll(() => {
    imageServer.close();
    redirector.close();
  });

  // An admin-style allowance for exactly this loopback address and these ports.
  const allowLoopback = (): UrlPolicy => ({
    ...defaultUrlPolicy,
    allowedPorts: [imagePort, redirectPort],
    allowedAddresses: ["127.0.0.1"],
  });

  const readAll = async (body: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it("refuses loopback under the default policy", async () => {
    expect((await refusal(openUrl(`http://127.0.0.1:${imagePort}/image`))).userMessage).toMatch(/Only ports|internal/);
  });

  it("downloads from an address an admin allowed, following a checked redirect", async () => {
    const fetched = await openUrl(`http://127.0.0.1:${redirectPort}/to-image`, { policy: allowLoopback() });
    expect(fetched.contentLength).toBe(payload.length);
    expect((await readAll(fetched.body)).equals(payload)).toBe(true);
  });

  it.each(["/to-metadata", "/to-loopback-v6", "/to-file"])(
    "re-checks the redirect hop %s and refuses it",
    async (path) => {
      const error = await refusal(openUrl(`http://127.0.0.1:${redirectPort}${path}`, { policy: allowLoopback() }));
      expect(error.userMessage).toMatch(/internal|Only http|Only ports/);
    },
  );

  it("stops redirect loops", async () => {
    expect(
      (await refusal(openUrl(`http://127.0.0.1:${redirectPort}/loop`, { policy: allowLoopback() }))).userMessage,
    ).toMatch(/too many times/);
  });

  it("reports an HTTP error without echoing the remote's body", async () => {
    const error = await refusal(openUrl(`http://127.0.0.1:${imagePort}/secret`, { policy: allowLoopback() }));
    expect(error.userMessage).toMatch(/HTTP 403/);
    expect(error.userMessage).not.toContain("secret body");
  });

  it("refuses a file larger than the cap from its declared length", async () => {
    const error = await refusal(
      openUrl(`http://127.0.0.1:${imagePort}/image`, { policy: { ...allowLoopback(), maxBytes: 1024 } }),
    );
    expect(error.userMessage).toMatch(/larger than the import limit/);
  });
});
