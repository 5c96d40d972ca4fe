import { describe, expect, it } from "vitest";
import { CLIENT_ADDRESS_HEADER, clientAddress, clientAddressOf, UNKNOWN_ADDRESS } from "./client-address";

describe("clientAddress", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For claims", () => {
    expect(clientAddress({ socketAddress: "203.0.113.7", forwardedFor: "198.51.100.1", trustedProxies: 0 })).toBe(
      "203.0.113.7",
    );
  });

  it("treats an IPv4 address mapped into IPv6 as the IPv4 address", () => {
    expect(clientAddress({ socketAddress: "::ffff:127.0.0.1", forwardedFor: undefined, trustedProxies: 0 })).toBe(
      "127.0.0.1",
    );
  });

  it("with N trusted proxies, takes the address N hops back and ignores what the client prepended", () => {
    // The client claims 1.1.1.1; the trusted proxy appended the peer it really saw, 198.51.100.9.
    const forwardedFor = "1.1.1.1, 198.51.100.9";
    expect(clientAddress({ socketAddress: "10.0.0.2", forwardedFor, trustedProxies: 1 })).toBe("198.51.100.9");
    expect(
      clientAddress({
        socketAddress: "10.0.0.2",
        forwardedFor: ["1.1.1.1", "198.51.100.9, 10.0.0.3"],
        trustedProxies: 2,
      }),
    ).toBe("198.51.100.9");
  });

  it("falls back to the nearest hop when the header is shorter than the proxies promised or holds garbage", () => {
    expect(clientAddress({ socketAddress: "10.0.0.2", forwardedFor: undefined, trustedProxies: 2 })).toBe("10.0.0.2");
    expect(clientAddress({ socketAddress: "10.0.0.2", forwardedFor: "not-an-address", trustedProxies: 1 })).toBe(
      "10.0.0.2",
    );
    expect(clientAddress({ socketAddress: undefined, forwardedFor: undefined, trustedProxies: 0 })).toBe(
      UNKNOWN_ADDRESS,
    );
  });
});

describe("clientAddressOf", () => {
  it("reads the address npm start stamped, and counts a request without one as unknown", () => {
    expect(
      clientAddressOf(new Request("http://hangar.test/", { headers: { [CLIENT_ADDRESS_HEADER]: "203.0.113.7" } })),
    ).toBe("203.0.113.7");
    expect(
      clientAddressOf(new Request("http://hangar.test/", { headers: { [CLIENT_ADDRESS_HEADER]: "<script>" } })),
    ).toBe(UNKNOWN_ADDRESS);
    expect(clientAddressOf(new Request("http://hangar.test/"))).toBe(UNKNOWN_ADDRESS);
  });
});
