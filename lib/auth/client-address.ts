// Which address a request came from, for the sign-in limits. `npm start` (scripts/start.ts) owns
// the socket, so it works the address out once per request and hands it to Next.js in a header of
// its own, replacing whatever a client sent under that name. X-Forwarded-For is believed only as
// far as the operator says reverse proxies stand in front (HANGAR_TRUST_PROXY): anyone can send
// that header, and Next.js copies the socket address into it only when it is absent.
import ipaddr from "ipaddr.js";

export const CLIENT_ADDRESS_HEADER = "x-hangar-client-address";

/** What a request that did not come through `npm start` (e.g. a bare `next start`) is counted as. */
export const UNKNOWN_ADDRESS = "unknown";

function normalise(address: string | undefined): string | null {
  const trimmed = address?.trim();
  if (!trimmed || !ipaddr.isValid(trimmed)) return null;
  // ::ffff:127.0.0.1 and 127.0.0.1 are one client.
  return ipaddr.process(trimmed).toString();
}

/**
 * The client's address: the socket's peer, or with `trustedProxies` = N, the address N hops back
 * along X-Forwarded-For (each proxy appends the peer it saw, so the last N entries are theirs to
 * vouch for and anything further left is the client's own claim).
 */
export function clientAddress({
  socketAddress,
  forwardedFor,
  trustedProxies,
}: {
  socketAddress: string | undefined;
  forwardedFor: string | string[] | undefined;
  trustedProxies: number;
}): string {
  const hops = [
    socketAddress,
    ...[forwardedFor ?? []]
      .flat()
      .flatMap((value) => value.split(","))
      .reverse(),
  ];
  // Fewer hops than proxies: the nearest one that is there (the header was shorter than promised).
  for (let index = Math.min(trustedProxies, hops.length - 1); index >= 0; index -= 1) {
    const address = normalise(hops[index]);
    if (address) return address;
  }
  return UNKNOWN_ADDRESS;
}

/** The address `npm start` stamped on this request. */
export function clientAddressOf(request: Request | undefined): string {
  return normalise(request?.headers.get(CLIENT_ADDRESS_HEADER) ?? undefined) ?? UNKNOWN_ADDRESS;
}
