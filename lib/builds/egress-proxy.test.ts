// The build proxy against real sockets: a test server on loopback stands for the host's services
// and must never be reached, whichever way a request names it; an allowed mirror passes.
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMirrorHost, startEgressProxy, type EgressPolicy, type EgressProxy } from "./egress-proxy";

let dir: string;
let hostService: net.Server;
let servicePort: number;
let serviceHits = 0;
let mirror: http.Server;
let mirrorPort: number;
const mirrorRequests: { url?: string; headers: http.IncomingHttpHeaders }[] = [];

/** Starts a proxy with this policy; names resolve through `names` (a stand-in DNS) or not at all. */
async function proxyWith(policy: Partial<EgressPolicy>, names: Record<string, string[]> = {}) {
  const log: string[] = [];
  const proxy = await startEgressProxy({
    socketPath: path.join(dir, `p-${Math.random().toString(36).slice(2)}.sock`),
    policy: { mirrors: [], allowedAddresses: [], ports: [80, 443], ...policy },
    log: (line) => log.push(line),
    resolve: async (host) => names[host] ?? [],
  });
  return { proxy, log };
}

/** Sends one raw request to the proxy and returns its whole answer. */
function ask(proxy: EgressProxy, request: string, afterConnect?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.socketPath);
    let answer = "";
    let sent = false;
    socket.on("data", (chunk) => {
      answer += chunk.toString();
      if (afterConnect && !sent && answer.includes("\r\n\r\n")) {
        sent = true;
        if (answer.startsWith("HTTP/1.1 200")) socket.write(afterConnect);
      }
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.write(request);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-egress-test-"));
  hostService = net.createServer((socket) => {
    serviceHits += 1;
    socket.end("HTTP/1.0 200 OK\r\n\r\nhost secret\n");
  });
  await new Promise<void>((done) => hostService.listen(0, "127.0.0.1", done));
  servicePort = (hostService.address() as net.AddressInfo).port;
  // The "mirror" also lives on loopback; only a policy that names its address as allowed reaches it.
  mirror = http.createServer((request, response) => {
    mirrorRequests.push({ url: request.url, headers: request.headers });
    response.end(`package index for ${request.headers.host}\n`);
  });
  await new Promise<void>((done) => mirror.listen(0, "127.0.0.1", done));
  mirrorPort = (mirror.address() as net.AddressInfo).port;
});

afterAll(async () => {
  hostService.close();
  mirror.close();
  await rm(dir, { recursive: true, force: true });
});

describe("mirror host names", () => {
  it("matches exact names and, for entries starting with a dot, names under them", () => {
    const mirrors = ["deb.debian.org", ".archive.ubuntu.com"];
    expect(isMirrorHost("deb.debian.org", mirrors)).toBe(true);
    expect(isMirrorHost("DEB.debian.org.", mirrors)).toBe(true);
    expect(isMirrorHost("de.archive.ubuntu.com", mirrors)).toBe(true);
    expect(isMirrorHost("evil-deb.debian.org", mirrors)).toBe(false);
    expect(isMirrorHost("deb.debian.org.evil.example", mirrors)).toBe(false);
    expect(isMirrorHost("archive.ubuntu.com.evil.example", mirrors)).toBe(false);
    expect(isMirrorHost("127.0.0.1", mirrors)).toBe(false);
  });
});

describe("the build proxy", () => {
  it("passes an allowed mirror through, for http and for CONNECT, without the proxy's own headers", async () => {
    const { proxy, log } = await proxyWith(
      { mirrors: ["mirror.example"], allowedAddresses: ["127.0.0.1"], ports: [mirrorPort] },
      { "mirror.example": ["127.0.0.1"] },
    );
    try {
      const plain = await ask(
        proxy,
        `GET http://mirror.example:${mirrorPort}/debian/dists/bookworm/Release HTTP/1.1\r\nHost: mirror.example:${mirrorPort}\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n`,
      );
      expect(plain).toMatch(/^HTTP\/1\.1 200 /);
      expect(plain).toContain(`package index for mirror.example:${mirrorPort}`);
      expect(mirrorRequests.at(-1)!.url).toBe("/debian/dists/bookworm/Release");
      expect(mirrorRequests.at(-1)!.headers["proxy-connection"]).toBeUndefined();
      // CONNECT carries any protocol once allowed; plain HTTP inside the tunnel shows it is connected.
      const tunnel = await ask(
        proxy,
        `CONNECT mirror.example:${mirrorPort} HTTP/1.1\r\nHost: mirror.example:${mirrorPort}\r\n\r\n`,
        "GET /tunnelled HTTP/1.0\r\nHost: mirror.example\r\n\r\n",
      );
      expect(tunnel).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/);
      expect(tunnel).toContain("package index for mirror.example");
      expect(log).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("answers 502 and logs it when an allowed mirror can't be reached", async () => {
    const closed = net.createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const { proxy, log } = await proxyWith(
      { mirrors: ["mirror.example"], allowedAddresses: ["127.0.0.1"], ports: [closedPort] },
      { "mirror.example": ["127.0.0.1"] },
    );
    try {
      expect(await ask(proxy, `GET http://mirror.example:${closedPort}/x HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 502 /,
      );
      expect(await ask(proxy, `CONNECT mirror.example:${closedPort} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 502 /,
      );
      expect(log).toHaveLength(2);
      expect(log[0]).toMatch(new RegExp(`network: GET http://mirror\\.example:${closedPort}/x failed: .*ECONNREFUSED`));
      expect(log[1]).toMatch(new RegExp(`network: CONNECT mirror\\.example:${closedPort} failed: .*ECONNREFUSED`));
    } finally {
      await proxy.close();
    }
  });

  it("refuses a host that is not a mirror, for http and for CONNECT, and logs why", async () => {
    const { proxy, log } = await proxyWith({ mirrors: ["deb.debian.org"] }, { "intranet.example": ["93.184.216.34"] });
    try {
      expect(await ask(proxy, `GET http://intranet.example/ HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 403 /);
      expect(await ask(proxy, `CONNECT intranet.example:443 HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 403 /);
      expect(log).toEqual([
        "[hangar] network: refused GET http://intranet.example/: intranet.example is not an allowed package mirror (HANGAR_BUILD_MIRRORS)",
        "[hangar] network: refused CONNECT intranet.example:443: intranet.example is not an allowed package mirror (HANGAR_BUILD_MIRRORS)",
      ]);
    } finally {
      await proxy.close();
    }
  });

  // Even an address an admin lists as a mirror by mistake stays closed unless it is global.
  const internalLiterals: [string, string][] = [
    ["loopback", "127.0.0.1"],
    ["IPv6 loopback", "::1"],
    ["a private 10/8 address", "10.1.2.3"],
    ["a private 172.16/12 address", "172.16.0.1"],
    ["a private 192.168/16 address", "192.168.1.1"],
    ["the link-local metadata address", "169.254.169.254"],
    ["an IPv6 link-local address", "fe80::1"],
  ];

  it.each(internalLiterals)("refuses %s even when it is listed as a mirror", async (_label, address) => {
    const { proxy, log } = await proxyWith({ mirrors: [address], ports: [servicePort, 443] });
    const host = address.includes(":") ? `[${address}]` : address;
    try {
      expect(await ask(proxy, `GET http://${host}:${servicePort}/ HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 403 /,
      );
      expect(await ask(proxy, `CONNECT ${host}:${servicePort} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 403 /,
      );
      expect(log).toHaveLength(2);
      for (const line of log) expect(line).toMatch(/non-global address among/);
      expect(serviceHits).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  // Mirror names an attacker could make resolve wherever they like: listing them as mirrors must not
  // open the host. These use the address rule of URL imports (resolveGlobalAddress).
  const internalAnswers: [string, string[]][] = [
    ["loopback", ["127.0.0.1"]],
    ["IPv6 loopback", ["::1"]],
    ["10/8", ["10.0.0.5"]],
    ["172.16/12", ["172.20.1.1"]],
    ["192.168/16", ["192.168.0.10"]],
    ["link-local", ["169.254.169.254"]],
    ["IPv4-mapped loopback", ["::ffff:127.0.0.1"]],
    ["a public and a loopback address", ["93.184.216.34", "127.0.0.1"]],
  ];

  it.each(internalAnswers)("refuses a mirror name that resolves to %s", async (_label, addresses) => {
    const { proxy, log } = await proxyWith(
      { mirrors: ["mirror.example"], ports: [servicePort, 443] },
      { "mirror.example": addresses },
    );
    try {
      expect(
        await ask(proxy, `GET http://mirror.example:${servicePort}/ HTTP/1.1\r\nHost: mirror.example\r\n\r\n`),
      ).toMatch(/^HTTP\/1\.1 403 /);
      expect(
        await ask(proxy, `CONNECT mirror.example:${servicePort} HTTP/1.1\r\nHost: mirror.example\r\n\r\n`),
      ).toMatch(/^HTTP\/1\.1 403 /);
      expect(log).toHaveLength(2);
      for (const line of log) expect(line).toMatch(/non-global address among .* for mirror\.example/);
      expect(serviceHits).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("refuses the real name localhost as a mirror (the system resolver answers loopback)", async () => {
    const log: string[] = [];
    const proxy = await startEgressProxy({
      socketPath: path.join(dir, "real-dns.sock"),
      policy: { mirrors: ["localhost"], allowedAddresses: [], ports: [servicePort] },
      log: (line) => log.push(line),
    });
    try {
      expect(await ask(proxy, `GET http://localhost:${servicePort}/ HTTP/1.1\r\nHost: localhost\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 403 /,
      );
      expect(log[0]).toMatch(/non-global address among .*(127\.0\.0\.1|::1).* for localhost/);
      expect(serviceHits).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("refuses ports other than the allowed ones, methods other than GET and HEAD, and requests that are not for a proxy", async () => {
    const { proxy, log } = await proxyWith(
      { mirrors: ["mirror.example"], allowedAddresses: ["127.0.0.1"], ports: [80, 443] },
      { "mirror.example": ["127.0.0.1"] },
    );
    try {
      expect(await ask(proxy, `CONNECT mirror.example:${mirrorPort} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 403 /,
      );
      expect(await ask(proxy, `POST http://mirror.example/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 403 /,
      );
      expect(await ask(proxy, `GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 403 /);
      expect(log[0]).toMatch(new RegExp(`port ${mirrorPort} is not allowed`));
      expect(log[1]).toMatch(/only GET and HEAD/);
      expect(log[2]).toMatch(/not a proxy request/);
      expect(mirrorRequests.filter((request) => request.url === "/x")).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });
});
