// The only way out of a build's network namespace: an HTTP(S) forward proxy that lets the guest's
// package manager reach the configured mirror hosts and nothing else. It listens on a Unix socket
// (a path on the file system, so it crosses into the build's namespace), takes plain GET/HEAD for
// http:// and CONNECT for https://, resolves names itself and connects only to an address that
// passes the same rule as URL imports (resolveGlobalAddress), so a mirror name that resolves to
// loopback or a private network is refused too. Every refusal is reported through `log`.
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { resolveGlobalAddress, UrlRefused, type Resolver } from "@/lib/imports/url-fetch";

export interface EgressPolicy {
  /** Host names the guest may reach; an entry starting with "." allows every name under it. */
  mirrors: string[];
  /** Exact non-global addresses a mirror may still resolve to (an internal mirror an admin allows). */
  allowedAddresses: string[];
  /** Ports the guest may reach on a mirror. */
  ports: number[];
}

export interface EgressProxy {
  socketPath: string;
  close(): Promise<void>;
}

class Refused extends Error {}

// Headers that belong to one hop (RFC 9110 §7.6.1); a proxy never forwards them.
const hopByHop = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase()),
  );
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name) && !named.has(name)));
}

export function isMirrorHost(host: string, mirrors: string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return mirrors.some((mirror) => {
    const entry = mirror.toLowerCase();
    return entry.startsWith(".") ? name.endsWith(entry) : name === entry;
  });
}

/** Host and port of a CONNECT target ("host:443", "[::1]:443"). */
function connectTarget(authority: string): { host: string; port: number } | null {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority);
  return match ? { host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) } : null;
}

export async function startEgressProxy({
  socketPath,
  policy,
  log,
  resolve,
}: {
  socketPath: string;
  policy: EgressPolicy;
  log: (line: string) => void;
  resolve?: Resolver;
}): Promise<EgressProxy> {
  const check = async (host: string, port: number): Promise<string> => {
    if (!isMirrorHost(host, policy.mirrors))
      throw new Refused(`${host} is not an allowed package mirror (HANGAR_BUILD_MIRRORS)`);
    if (!policy.ports.includes(port))
      throw new Refused(`port ${port} is not allowed (only ${policy.ports.join(", ")})`);
    try {
      return await resolveGlobalAddress(host, policy, resolve);
    } catch (error) {
      if (error instanceof UrlRefused)
        throw new Refused(
          `${error.detail}; a build may only reach mirrors on public addresses (or HANGAR_BUILD_MIRROR_ADDRESSES)`,
        );
      throw error;
    }
  };
  const refusal = (what: string, error: unknown) => {
    const reason = (error as Error).message;
    log(
      error instanceof Refused
        ? `[hangar] network: refused ${what}: ${reason}`
        : `[hangar] network: ${what} failed: ${reason}`,
    );
    return reason;
  };

  const server = http.createServer(async (request, response) => {
    const what = `${request.method} ${request.url}`;
    try {
      let url: URL;
      try {
        url = new URL(request.url ?? "");
      } catch {
        throw new Refused("not a proxy request (an absolute http:// URL is expected)");
      }
      if (url.protocol !== "http:") throw new Refused(`${url.protocol} is not proxied (https goes through CONNECT)`);
      if (request.method !== "GET" && request.method !== "HEAD") throw new Refused("only GET and HEAD are allowed");
      const port = url.port ? Number(url.port) : 80;
      const address = await check(url.hostname.replace(/^\[|\]$/g, ""), port);
      const upstream = http.request({
        hostname: address,
        port,
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers: { ...endToEndHeaders(request.headers), host: url.host },
        timeout: 60_000,
      });
      upstream.on("response", (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndHeaders(answer.headers));
        answer.pipe(response);
      });
      upstream.on("timeout", () => upstream.destroy(new Error("the mirror did not answer in time")));
      upstream.on("error", (error) => {
        refusal(what, error);
        if (!response.headersSent)
          response.writeHead(502, { "content-type": "text/plain" }).end(`Hangar's build proxy: ${error.message}\n`);
        else response.destroy();
      });
      // The guest hung up before the answer was through: stop fetching it.
      response.on("close", () => {
        if (!response.writableFinished) upstream.destroy();
      });
      upstream.end();
    } catch (error) {
      const reason = refusal(what, error);
      response
        .writeHead(error instanceof Refused ? 403 : 502, { "content-type": "text/plain", connection: "close" })
        .end(`Hangar's build proxy refused ${what}: ${reason}\n`);
    }
  });

  server.on("connect", async (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const what = `CONNECT ${request.url}`;
    client.on("error", () => client.destroy());
    try {
      const target = connectTarget(request.url ?? "");
      if (!target) throw new Refused("not a host:port target");
      const address = await check(target.host, target.port);
      const upstream = net.connect({ host: address, port: target.port });
      upstream.setTimeout(60_000, () => upstream.destroy(new Error("the mirror did not answer in time")));
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", (error) => {
        refusal(what, error);
        if (!connected) client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n");
        else client.destroy();
      });
      client.on("close", () => upstream.destroy());
    } catch (error) {
      const reason = refusal(what, error);
      client.end(
        `HTTP/1.1 ${error instanceof Refused ? "403 Forbidden" : "502 Bad Gateway"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nHangar's build proxy refused ${what}: ${reason}\n`,
      );
    }
  });

  // Tunnels leave the server's own bookkeeping, so every socket is tracked for close().
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(socketPath, () => done());
  });
  return {
    socketPath,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
