import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import { proxy } from "@/proxy";
import { contentSecurityPolicy, pagePostRefusal } from "./page-guard";

const page = "http://hangar.test:3000/images/debian";
const actionPost = (headers: Record<string, string>) =>
  new NextRequest(page, {
    method: "POST",
    headers: {
      host: "hangar.test:3000",
      "next-action": "7f00aa",
      "content-type": "text/plain;charset=UTF-8",
      ...headers,
    },
    body: "[]",
  });

describe("server-action POSTs", () => {
  it("refuses one without an Origin header with 403 and a message saying why", async () => {
    const response = proxy(actionPost({}));
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/carries no Origin header/);
    expect(proxy(actionPost({ origin: "null" })).status).toBe(403);
  });

  it("refuses one from another origin, a lookalike host or another port", async () => {
    for (const origin of [
      "https://attacker.example",
      "http://hangar.test.attacker.example:3000",
      "http://hangar.test:3001",
      "not a url",
    ]) {
      const response = proxy(actionPost({ origin }));
      expect(response.status, origin).toBe(403);
      expect(await response.text()).toMatch(/not from this Hangar/);
    }
  });

  it("lets a same-origin one through, also behind a reverse proxy that sets X-Forwarded-Host", () => {
    expect(proxy(actionPost({ origin: "http://hangar.test:3000" })).status).toBe(200);
    expect(
      proxy(actionPost({ origin: "https://hangar.example.org", "x-forwarded-host": "hangar.example.org" })).status,
    ).toBe(200);
    expect(pagePostRefusal(new Request(page, { method: "GET" }))).toBeNull();
  });
});

describe("Content-Security-Policy", () => {
  it("puts a fresh nonce on every page response and hands the same policy to Next.js's renderer", () => {
    const first = proxy(new NextRequest(page, { headers: { host: "hangar.test:3000" } }));
    const second = proxy(new NextRequest(page, { headers: { host: "hangar.test:3000" } }));
    const policy = first.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([A-Za-z0-9+/=]{24})'/.exec(policy)?.[1];
    expect(nonce).toBeDefined();
    expect(second.headers.get("content-security-policy")).not.toContain(nonce);
    // NextResponse.next({ request: { headers } }) passes request headers on as x-middleware-request-*.
    expect(first.headers.get("x-middleware-request-content-security-policy")).toBe(policy);
  });

  it("allows scripts only by nonce and forbids plugins, foreign bases, form targets and framing", () => {
    const policy = contentSecurityPolicy("abc");
    const directive = (name: string) => policy.split("; ").find((part) => part.startsWith(`${name} `));
    expect(directive("script-src")).toBe("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(directive("style-src")).toBe("style-src 'self' 'nonce-abc'");
    expect(policy).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(directive("object-src")).toBe("object-src 'none'");
    expect(directive("base-uri")).toBe("base-uri 'self'");
    expect(directive("frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(directive("form-action")).toBe("form-action 'self'");
    expect(contentSecurityPolicy("abc", { dev: true })).toContain("'unsafe-eval'");
  });
});
