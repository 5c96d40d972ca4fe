import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { db } from "@/db/client";
import { apiTokens, projectMembers, users } from "@/db/schema";
import { canInProject, isAdmin } from "@/db/queries/access";
import { getApiToken, revokeApiToken } from "@/db/queries/api-tokens";
import { HangarError } from "@/lib/errors";
import { createTestProject, createTestUser } from "@/tests/fixtures";
import { decodeCursor, encodeCursor } from "./cursor";
import { readJsonBody } from "./route";
import { hashTokenSecret, issueApiToken, viewerFromTokenSecret } from "./tokens";

const address = "203.0.113.7";
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => (error instanceof HangarError ? { code: error.code, message: error.message } : error),
  );

describe("API tokens", () => {
  it("keeps only the hash, and a use records when and from where", async () => {
    const owner = await createTestUser();
    const { token, secret } = await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "ci",
      scope: "read",
      expiresAt: null,
    });
    expect(secret).toMatch(/^hgr_[A-Za-z0-9_-]{43}$/);
    const [stored] = await db().select().from(apiTokens).where(eq(apiTokens.id, token.id));
    expect(stored!.secretHash).toBe(hashTokenSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret.slice(12));
    expect(secret.startsWith(stored!.prefix)).toBe(true);

    const viewer = await viewerFromTokenSecret(secret, { address });
    expect(viewer.id).toBe(owner.id);
    expect(viewer.token).toEqual({ id: token.id, scope: "read", projectId: null });
    const used = await getApiToken({ id: token.id });
    expect(used!.lastUsedAddress).toBe(address);
    expect(used!.lastUsedAt).not.toBeNull();
  });

  it("refuses malformed, unknown, revoked and expired tokens and those of disabled accounts, each saying why", async () => {
    const owner = await createTestUser();
    expect(await refusal(viewerFromTokenSecret("ghp_abc", { address }))).toMatchObject({
      code: "unauthenticated",
      message: expect.stringMatching(/not a Hangar token/),
    });
    expect(await refusal(viewerFromTokenSecret(`hgr_${"A".repeat(43)}`, { address }))).toMatchObject({
      code: "unauthenticated",
      message: expect.stringMatching(/not known/),
    });

    const revoked = await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "old",
      scope: "write",
      expiresAt: null,
    });
    expect(await revokeApiToken({ id: revoked.token.id, revokedById: owner.id })).toBe(true);
    expect(await revokeApiToken({ id: revoked.token.id, revokedById: owner.id })).toBe(false);
    expect(await refusal(viewerFromTokenSecret(revoked.secret, { address }))).toMatchObject({
      message: expect.stringMatching(/was revoked/),
    });

    const expired = await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "short",
      scope: "write",
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(await refusal(viewerFromTokenSecret(expired.secret, { address }))).toMatchObject({
      message: expect.stringMatching(/expired on/),
    });

    const live = await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "live",
      scope: "write",
      expiresAt: null,
    });
    await db().update(users).set({ disabledAt: new Date() }).where(eq(users.id, owner.id));
    expect(await refusal(viewerFromTokenSecret(live.secret, { address }))).toMatchObject({
      message: expect.stringMatching(/disabled/),
    });
  });

  it("never gives more than the owner has now, and read tokens change nothing", async () => {
    const admin = await createTestUser({ role: "admin" });
    const member = await createTestUser();
    const project = await createTestProject({
      members: [
        { viewer: member, role: "owner" },
        { viewer: admin, role: "owner" },
      ],
    });
    const other = await createTestProject({ members: [{ viewer: member, role: "owner" }] });

    const read = await issueApiToken({
      userId: admin.id,
      projectId: null,
      projectRole: null,
      name: "r",
      scope: "read",
      expiresAt: null,
    });
    const readViewer = await viewerFromTokenSecret(read.secret, { address });
    expect(isAdmin(readViewer)).toBe(false);
    expect(canInProject(readViewer, project.id, "view")).toBe(true);
    expect(canInProject(readViewer, project.id, "contribute")).toBe(false);

    const write = await issueApiToken({
      userId: admin.id,
      projectId: null,
      projectRole: null,
      name: "w",
      scope: "write",
      expiresAt: null,
    });
    const writeViewer = await viewerFromTokenSecret(write.secret, { address });
    expect(isAdmin(writeViewer)).toBe(false);
    expect(canInProject(writeViewer, project.id, "manage")).toBe(true);

    const adminToken = await issueApiToken({
      userId: admin.id,
      projectId: null,
      projectRole: null,
      name: "a",
      scope: "admin",
      expiresAt: null,
    });
    expect(isAdmin(await viewerFromTokenSecret(adminToken.secret, { address }))).toBe(true);

    const ci = await issueApiToken({
      userId: member.id,
      projectId: project.id,
      projectRole: "member",
      name: "ci",
      scope: "write",
      expiresAt: null,
    });
    const ciViewer = await viewerFromTokenSecret(ci.secret, { address });
    expect(canInProject(ciViewer, project.id, "contribute")).toBe(true);
    expect(canInProject(ciViewer, project.id, "manage")).toBe(false);
    expect(canInProject(ciViewer, other.id, "view")).toBe(false);

    // Rights are the owner's at the time of use: a demotion narrows the token at once, removal ends it.
    await db().update(projectMembers).set({ role: "viewer" }).where(eq(projectMembers.userId, member.id));
    expect(canInProject(await viewerFromTokenSecret(ci.secret, { address }), project.id, "contribute")).toBe(false);
    await db().delete(projectMembers).where(eq(projectMembers.userId, member.id));
    expect(await refusal(viewerFromTokenSecret(ci.secret, { address }))).toMatchObject({
      message: expect.stringMatching(/no longer a member/),
    });
  });
});

describe("API request pieces", () => {
  it("refuses a cursor that was changed", () => {
    const cursor = encodeCursor({ after: "abc", n: 1 });
    expect(decodeCursor(cursor)).toEqual({ after: "abc", n: 1 });
    const [body, signature] = cursor.split(".");
    const forged = `${Buffer.from(JSON.stringify({ after: "zzz", n: 1 })).toString("base64url")}.${signature}`;
    expect(() => decodeCursor(forged)).toThrow(/not one this API gave out/);
    expect(() => decodeCursor(body!)).toThrow(/not one this API gave out/);
  });

  it("reads JSON bodies strictly: type, size, syntax and unknown fields", async () => {
    const schema = z.object({ name: z.string(), tags: z.array(z.string()).optional() });
    const request = (body: string, type = "application/json") =>
      new Request("http://hangar.test/api/v1/x", { method: "POST", headers: { "content-type": type }, body });
    expect(await readJsonBody(request('{"name":"a"}'), schema)).toEqual({ name: "a" });
    expect(await refusal(readJsonBody(request('{"name":"a"}', "text/plain"), schema))).toMatchObject({
      code: "unsupported_media_type",
    });
    expect(await refusal(readJsonBody(request('{"name":'), schema))).toMatchObject({
      code: "invalid",
      message: expect.stringMatching(/not valid JSON/),
    });
    expect(await refusal(readJsonBody(request('{"name":"a","nmae":"b"}'), schema))).toMatchObject({
      code: "invalid",
      message: expect.stringMatching(/Unknown field: nmae/),
    });
    expect(
      await refusal(readJsonBody(request(JSON.stringify({ name: "x".repeat(2000) })), schema, { maxBytes: 1000 })),
    ).toMatchObject({
      code: "too_large",
    });
  });
});
