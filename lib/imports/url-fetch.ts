// Server-side download of a user-supplied URL without server-side request forgery: only http(s)
// on allowed ports, no userinfo, every resolved address must be global unicast (IPv4-in-IPv6
// unwrapped), the connection goes to the address we checked (no second DNS lookup), and every
// redirect hop is checked again. Sizes and time are capped. Reasons are logged for operators;
// users get a generic message that never echoes the remote's body.
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Readable } from "node:stream";
import ipaddr from "ipaddr.js";

export interface UrlPolicy {
  allowedPorts: number[];
  /** Exact addresses an admin allows despite not being global (e.g. an internal mirror). */
  allowedAddresses: string[];
  maxRedirects: number;
  maxBytes: number;
  timeoutMs: number;
}

export const defaultUrlPolicy: UrlPolicy = {
  allowedPorts: [80, 443],
  allowedAddresses: [],
  maxRedirects: 5,
  maxBytes: 64 * 1024 ** 3,
  timeoutMs: 6 * 60 * 60 * 1000,
};

export class UrlRefused extends Error {
  constructor(
    readonly userMessage: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "UrlRefused";
  }
}

export type Resolver = (hostname: string) => Promise<string[]>;

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** The address family's own form with IPv4-mapped IPv6 unwrapped, or null when it is not global. */
export function globalAddress(address: string, policy: Pick<UrlPolicy, "allowedAddresses">): string | null {
  if (!ipaddr.isValid(address)) return null;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const normalized = parsed.toString();
  if (
    policy.allowedAddresses.some(
      (allowed) => ipaddr.isValid(allowed) && ipaddr.parse(allowed).toString() === normalized,
    )
  )
    return normalized;
  return parsed.range() === "unicast" ? normalized : null;
}

export interface CheckedTarget {
  url: URL;
  address: string;
  port: number;
}

/** Validates one URL (one hop) and resolves it to a single checked address. */
export async function checkUrl(
  raw: string,
  policy: UrlPolicy = defaultUrlPolicy,
  resolve: Resolver = systemResolver,
): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused(
      "That is not a valid URL. Paste a full http:// or https:// link to the image file.",
      `unparseable URL ${JSON.stringify(raw)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UrlRefused("Only http:// and https:// links can be imported.", `scheme ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new UrlRefused(
      "Links with a user name or password in them can't be imported; use a link that needs no login.",
      "userinfo present",
    );
  }
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  if (!policy.allowedPorts.includes(port)) {
    throw new UrlRefused(
      `Only ports ${policy.allowedPorts.join(" and ")} are allowed for imports; ask an admin to allow port ${port}.`,
      `port ${port}`,
    );
  }
  const address = await resolveGlobalAddress(url.hostname, policy, resolve);
  return { url, address, port };
}

/**
 * Resolves a host name (or takes an address literal, brackets allowed) to the one address to connect
 * to, refusing when it has no address or when ANY of its addresses is not global: Hangar's only
 * rule for which servers it connects to on someone else's behalf (URL imports, a build's proxy).
 */
export async function resolveGlobalAddress(
  hostname: string,
  policy: Pick<UrlPolicy, "allowedAddresses">,
  resolve: Resolver = systemResolver,
): Promise<string> {
  const host = hostname.replace(/^\[|\]$/g, "");
  const addresses = net.isIP(host) ? [host] : await resolve(host).catch(() => []);
  if (addresses.length === 0)
    throw new UrlRefused("The server in that link could not be found. Check the link.", `no addresses for ${host}`);
  const checked = addresses.map((address) => globalAddress(address, policy));
  const firstChecked = checked[0];
  if (checked.some((address) => address === null) || !firstChecked) {
    throw new UrlRefused(
      "That link points at a private or internal address, which Hangar does not download from. Use a public link, or ask an admin.",
      `non-global address among ${addresses.join(", ")} for ${host}`,
    );
  }
  return firstChecked;
}

export interface FetchedBody {
  body: Readable;
  contentLength: number | null;
  finalUrl: string;
}

function requestOnce(target: CheckedTarget, policy: UrlPolicy, signal: AbortSignal): Promise<http.IncomingMessage> {
  const client = target.url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      {
        protocol: target.url.protocol,
        host: target.address,
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: "GET",
        headers: { host: target.url.host, "user-agent": "Hangar image import", accept: "*/*" },
        servername: net.isIP(target.url.hostname.replace(/^\[|\]$/g, "")) ? undefined : target.url.hostname,
        // Pin the connection to the checked address: no second lookup that could answer differently.
        lookup: (_hostname, _options, callback) => callback(null, target.address, net.isIPv6(target.address) ? 6 : 4),
        signal,
        timeout: Math.min(policy.timeoutMs, 60_000),
      },
      resolve,
    );
    request.on("timeout", () =>
      request.destroy(new UrlRefused("The server in that link did not answer in time.", "socket timeout")),
    );
    request.on("error", reject);
    request.end();
  });
}

/** Opens the URL, following redirects that pass the same checks. The caller consumes `body`. */
export async function openUrl(
  raw: string,
  {
    policy = defaultUrlPolicy,
    resolve = systemResolver,
    signal,
  }: { policy?: UrlPolicy; resolve?: Resolver; signal?: AbortSignal } = {},
): Promise<FetchedBody> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new UrlRefused("The download took too long and was stopped.", "overall timeout")),
    policy.timeoutMs,
  );
  timer.unref();
  signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  let current = raw;
  for (let hop = 0; hop <= policy.maxRedirects; hop += 1) {
    const target = await checkUrl(current, policy, resolve);
    let response: http.IncomingMessage;
    try {
      response = await requestOnce(target, policy, controller.signal);
    } catch (error) {
      if (error instanceof UrlRefused) throw error;
      throw new UrlRefused(
        "The server in that link could not be reached.",
        `request failed: ${(error as Error).message}`,
      );
    }
    const status = response.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      response.resume();
      const location = response.headers.location;
      if (!location)
        throw new UrlRefused(
          "The server answered with a redirect that leads nowhere.",
          `redirect ${status} without Location`,
        );
      current = new URL(location, target.url).toString();
      continue;
    }
    if (status < 200 || status > 299) {
      response.resume();
      throw new UrlRefused(
        `The server refused the download (HTTP ${status}). Check that the link works without signing in.`,
        `HTTP ${status}`,
      );
    }
    const declared = response.headers["content-length"] ? Number(response.headers["content-length"]) : null;
    if (declared !== null && declared > policy.maxBytes) {
      response.destroy();
      throw new UrlRefused(
        `The file is larger than the import limit (${policy.maxBytes} bytes).`,
        `content-length ${declared}`,
      );
    }
    response.on("close", () => clearTimeout(timer));
    return {
      body: response,
      contentLength: declared !== null && Number.isFinite(declared) ? declared : null,
      finalUrl: current,
    };
  }
  throw new UrlRefused("The link redirects too many times.", `more than ${policy.maxRedirects} redirects`);
}
