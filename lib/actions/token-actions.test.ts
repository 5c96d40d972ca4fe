import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { apiTokens, auditEvents } from "@/db/schema";
import { getApiToken } from "@/db/queries/api-tokens";
import { hashTokenSecret, issueApiToken, viewerFromTokenSecret } from "@/lib/api/tokens";
import { createTestProject, createTestUser, viewerOf } from "@/tests/fixtures";
import {
  createApiTokenAction,
  listAllApiTokensAction,
  listApiTokensAction,
  revokeApiTokenAction,
} from "./token-actions";

const address = "198.51.100.4";

async function created(result: Awaited<ReturnType<typeof createApiTokenAction>>) {
  if (!result.ok) throw new Error(`expected a token, got ${result.code}: ${result.message}`);
  return result.data;
}

describe("token actions", () => {
  it("returns the secret once; lists never carry it or its hash", async () => {
    const owner = await createTestUser();
    const { token, secret } = await created(
      await createApiTokenAction(owner, { name: "laptop", scope: "write", expires: "30" }),
    );
    expect(secret).toMatch(/^hgr_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(token.prefix)).toBe(true);
    expect(token).toMatchObject({ name: "laptop", scope: "write", projectId: null, status: "active", canRevoke: true });
    const days = (token.expiresAt!.getTime() - Date.now()) / (24 * 3600 * 1000);
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect((await viewerFromTokenSecret(secret, { address })).id).toBe(owner.id);

    const listed = await listApiTokensAction(owner, {});
    if (!listed.ok) throw new Error(listed.message);
    expect(listed.data.map((entry) => entry.id)).toEqual([token.id]);
    const text = JSON.stringify(listed.data);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(token.prefix.length));
    expect(text).not.toContain(hashTokenSecret(secret));
    expect(listed.data[0]!.lastUsedAddress).toBe(address);

    const [audit] = await db().select().from(auditEvents).where(eq(auditEvents.objectId, token.id));
    expect(audit).toMatchObject({ action: "token.create", actorId: owner.id });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it("takes an expiry date or never only as the rules allow, and admin scope only for admins", async () => {
    const member = await createTestUser();
    const admin = await createTestUser({ role: "admin" });
    const inTenDays = new Date(Date.now() + 10 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const dated = await created(
      await createApiTokenAction(member, { name: "dated", scope: "read", expires: inTenDays }),
    );
    expect(dated.token.expiresAt!.toISOString().slice(0, 10)).toBe(inTenDays);

    const past = await createApiTokenAction(member, { name: "past", scope: "read", expires: "2020-01-01" });
    expect(past).toMatchObject({ ok: false, code: "invalid", fieldErrors: { expires: [expect.any(String)] } });
    const never = await createApiTokenAction(member, { name: "forever", scope: "read", expires: "never" });
    expect(never).toMatchObject({ ok: false, code: "invalid", message: expect.stringMatching(/never expire/) });
    const asAdmin = await createApiTokenAction(member, { name: "root", scope: "admin", expires: "30" });
    expect(asAdmin).toMatchObject({ ok: false, code: "invalid", fieldErrors: { scope: [expect.any(String)] } });
    const blank = await createApiTokenAction(member, { name: "  ", scope: "read" });
    expect(blank).toMatchObject({ ok: false, code: "invalid", fieldErrors: { name: [expect.any(String)] } });

    const adminToken = await created(await createApiTokenAction(admin, { name: "ops", scope: "admin" }));
    expect(adminToken.token.scope).toBe("admin");
    const listed = await listApiTokensAction(member, {});
    expect(listed.ok && listed.data.map((entry) => entry.name)).toEqual(["dated"]);
  });

  it("lets only the project's owners make project tokens, with the viewer role for read", async () => {
    const owner = await createTestUser();
    const member = await createTestUser();
    const viewer = await createTestUser();
    const outsider = await createTestUser();
    const project = await createTestProject({
      members: [
        { viewer: owner, role: "owner" },
        { viewer: member, role: "member" },
        { viewer: viewer, role: "viewer" },
      ],
    });
    const ownerNow = (await viewerOf(owner.id))!;
    const memberNow = (await viewerOf(member.id))!;
    const viewerNow = (await viewerOf(viewer.id))!;
    const countBefore = (await db().select().from(apiTokens).where(eq(apiTokens.projectId, project.id))).length;

    expect(
      await createApiTokenAction(memberNow, { name: "ci", scope: "write", project: project.slug, expires: "30" }),
    ).toMatchObject({ ok: false, code: "forbidden" });
    expect(
      await createApiTokenAction(viewerNow, { name: "ci", scope: "read", project: project.slug, expires: "30" }),
    ).toMatchObject({ ok: false, code: "forbidden" });
    expect(
      await createApiTokenAction(outsider, { name: "ci", scope: "read", project: project.slug, expires: "30" }),
    ).toMatchObject({ ok: false, code: "not_found" });
    expect((await db().select().from(apiTokens).where(eq(apiTokens.projectId, project.id))).length).toBe(countBefore);

    const read = await created(
      await createApiTokenAction(ownerNow, { name: "ci read", scope: "read", project: project.slug, expires: "90" }),
    );
    expect(read.token).toMatchObject({ projectId: project.id, projectSlug: project.slug, projectRole: "viewer" });
    const write = await created(
      await createApiTokenAction(ownerNow, { name: "ci write", scope: "write", project: project.slug, expires: "90" }),
    );
    expect(write.token.projectRole).toBe("owner");

    // Members see the project's tokens but may revoke none of them; the list still has no secret.
    const seen = await listApiTokensAction(viewerNow, { project: project.slug });
    if (!seen.ok) throw new Error(seen.message);
    expect(seen.data.map((entry) => [entry.name, entry.canRevoke])).toEqual([
      ["ci write", false],
      ["ci read", false],
    ]);
    expect(JSON.stringify(seen.data)).not.toContain(read.secret);
    expect(await listApiTokensAction(outsider, { project: project.slug })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    // The owner's personal list is personal tokens only.
    const personal = await listApiTokensAction(ownerNow, {});
    expect(personal.ok && personal.data).toEqual([]);
  });

  it("revokes one's own tokens, refuses others' and leaves them working", async () => {
    const owner = await createTestUser();
    const other = await createTestUser();
    const admin = await createTestUser({ role: "admin" });
    const { token, secret } = await created(await createApiTokenAction(owner, { name: "mine", scope: "read" }));

    expect(await revokeApiTokenAction(other, { id: token.id })).toMatchObject({ ok: false, code: "not_found" });
    expect((await getApiToken({ id: token.id }))!.revokedAt).toBeNull();
    expect((await viewerFromTokenSecret(secret, { address })).id).toBe(owner.id);

    const revoked = await revokeApiTokenAction(owner, { id: token.id });
    expect(revoked).toMatchObject({ ok: true, data: { revoked: true, token: { status: "revoked" } } });
    await expect(viewerFromTokenSecret(secret, { address })).rejects.toThrow(/was revoked/);
    expect(await revokeApiTokenAction(owner, { id: token.id })).toMatchObject({ ok: true, data: { revoked: false } });

    // An admin sees and revokes anyone's token.
    const second = await created(await createApiTokenAction(owner, { name: "second", scope: "write" }));
    expect(await listAllApiTokensAction(owner, {})).toMatchObject({ ok: false, code: "forbidden" });
    const all = await listAllApiTokensAction(admin, {});
    if (!all.ok) throw new Error(all.message);
    expect(all.data.find((entry) => entry.id === second.token.id)).toMatchObject({ canRevoke: true, status: "active" });
    expect(JSON.stringify(all.data)).not.toContain(second.secret);
    expect(await revokeApiTokenAction(admin, { id: second.token.id })).toMatchObject({ ok: true });
    const audit = await db().select().from(auditEvents).where(eq(auditEvents.objectId, second.token.id));
    expect(audit.find((event) => event.action === "token.revoke")).toMatchObject({ actorId: admin.id });
  });

  it("lists an expired token as expired", async () => {
    const owner = await createTestUser();
    await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "old",
      scope: "read",
      expiresAt: new Date(Date.now() - 1000),
    });
    const listed = await listApiTokensAction(owner, {});
    expect(listed.ok && listed.data.map((entry) => [entry.name, entry.status])).toEqual([["old", "expired"]]);
  });

  it("refuses a caller who came with a token", async () => {
    const owner = await createTestUser();
    const { secret } = await created(await createApiTokenAction(owner, { name: "api", scope: "write" }));
    const viaToken = await viewerFromTokenSecret(secret, { address });
    expect(await createApiTokenAction(viaToken, { name: "more", scope: "write" })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
  });
});
