import { eq } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { afterEach, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { users } from "@/db/schema";
import { createTestUser } from "@/tests/fixtures";
import { viewerFromSessionCookie } from "./session-cookie";

const secret = "session-cookie-test-secret-0123456789";
const plain = "authjs.session-token";
const secure = "__Secure-authjs.session-token";

const token = (uid: string, salt: string, options: { secret?: string; maxAge?: number } = {}) =>
  encode({ token: { uid, sub: uid }, secret: options.secret ?? secret, salt, maxAge: options.maxAge });

const headers = (cookie: string, extra: Record<string, string> = {}) => new Headers({ cookie, ...extra });

describe("viewerFromSessionCookie", () => {
  const authUrl = process.env.AUTH_URL;
  afterEach(() => {
    if (authUrl === undefined) delete process.env.AUTH_URL;
    else process.env.AUTH_URL = authUrl;
  });

  it("reads the session Auth.js set over http, and refuses it once the account is disabled", async () => {
    delete process.env.AUTH_URL;
    const user = await createTestUser();
    const cookie = `other=1; ${plain}=${await token(user.id, plain)}`;
    expect((await viewerFromSessionCookie({ headers: headers(cookie), secret }))?.id).toBe(user.id);
    await db().update(users).set({ disabledAt: new Date() }).where(eq(users.id, user.id));
    expect(await viewerFromSessionCookie({ headers: headers(cookie), secret })).toBeNull();
  });

  it("uses the __Secure- cookie when the app's URL is https, and only that one", async () => {
    process.env.AUTH_URL = "https://hangar.example";
    const user = await createTestUser();
    expect(
      (await viewerFromSessionCookie({ headers: headers(`${secure}=${await token(user.id, secure)}`), secret }))?.id,
    ).toBe(user.id);
    expect(
      await viewerFromSessionCookie({ headers: headers(`${plain}=${await token(user.id, plain)}`), secret }),
    ).toBeNull();
    delete process.env.AUTH_URL;
    const forwarded = headers(`${secure}=${await token(user.id, secure)}`, { "x-forwarded-proto": "https" });
    expect((await viewerFromSessionCookie({ headers: forwarded, secret }))?.id).toBe(user.id);
  });

  it("joins a session split into chunks in their order", async () => {
    delete process.env.AUTH_URL;
    const user = await createTestUser();
    const value = await token(user.id, plain);
    const middle = Math.floor(value.length / 2);
    const cookie = `${plain}.1=${value.slice(middle)}; ${plain}.0=${value.slice(0, middle)}`;
    expect((await viewerFromSessionCookie({ headers: headers(cookie), secret }))?.id).toBe(user.id);
  });

  it("joins a chunked __Secure- session, larger than one cookie holds", async () => {
    process.env.AUTH_URL = "https://hangar.example";
    const user = await createTestUser();
    // Auth.js splits a session over 4 KiB into name.0, name.1, …
    const value = await encode({
      token: { uid: user.id, sub: user.id, padding: "x".repeat(6000) },
      secret,
      salt: secure,
    });
    const pieces = [value.slice(0, 3000), value.slice(3000, 6000), value.slice(6000)];
    const cookie = pieces
      .map((piece, index) => `${secure}.${index}=${piece}`)
      .reverse()
      .join("; ");
    expect((await viewerFromSessionCookie({ headers: headers(cookie), secret }))?.id).toBe(user.id);
  });

  it("reads only the cookie, not a token in an Authorization header", async () => {
    delete process.env.AUTH_URL;
    const user = await createTestUser();
    expect(
      await viewerFromSessionCookie({
        headers: new Headers({ authorization: `Bearer ${await token(user.id, plain)}` }),
        secret,
      }),
    ).toBeNull();
  });

  it("refuses no cookie, another secret, the wrong salt and an expired session", async () => {
    delete process.env.AUTH_URL;
    const user = await createTestUser();
    expect(await viewerFromSessionCookie({ headers: new Headers(), secret })).toBeNull();
    expect(
      await viewerFromSessionCookie({
        headers: headers(`${plain}=${await token(user.id, plain, { secret: "another-secret-entirely-0123456789" })}`),
        secret,
      }),
    ).toBeNull();
    expect(
      await viewerFromSessionCookie({ headers: headers(`${plain}=${await token(user.id, secure)}`), secret }),
    ).toBeNull();
    expect(
      await viewerFromSessionCookie({
        headers: headers(`${plain}=${await token(user.id, plain, { maxAge: -60 })}`),
        secret,
      }),
    ).toBeNull();
    expect(await viewerFromSessionCookie({ headers: headers(`${plain}=garbage`), secret })).toBeNull();
  });
});
