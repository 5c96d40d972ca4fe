import { describe, expect, it } from "vitest";
import { runAdmin } from "@/tests/admin-command";
import { listAuditEvents } from "@/db/queries/audit";
import { canInProject } from "@/db/queries/access";
import { viewerFromTokenSecret } from "@/lib/api/tokens";
import { createTestProject, createTestUser } from "@/tests/fixtures";

const admin = runAdmin;

const address = "192.0.2.10";

describe("npm run admin -- token", () => {
  it("creates a project token whose secret works once printed, lists it without the secret, and revokes it", async () => {
    const owner = await createTestUser();
    const project = await createTestProject({ members: [{ viewer: owner, role: "owner" }] });
    const created = await admin([
      "token",
      "create",
      "--user",
      owner.email,
      "--scope",
      "write",
      "--project",
      project.slug,
      "--expires",
      "30d",
      "--name",
      "ci",
    ]);
    expect(created.code).toBe(0);
    const secret = created.out.find((line) => line.startsWith("hgr_"))!;
    expect(secret).toMatch(/^hgr_[A-Za-z0-9_-]{43}$/);
    const viewer = await viewerFromTokenSecret(secret, { address });
    expect(canInProject(viewer, project.id, "manage")).toBe(true);
    expect(viewer.token?.projectId).toBe(project.id);

    const listed = await admin(["token", "list", "--user", owner.email, "--json"]);
    expect(listed.code).toBe(0);
    expect(listed.out.join("\n")).not.toContain(secret.slice(12));
    const [row] = JSON.parse(listed.out.join("\n")) as {
      id: string;
      prefix: string;
      projectSlug: string;
      lastUsedAddress: string;
    }[];
    expect(row).toMatchObject({ projectSlug: project.slug, lastUsedAddress: address });
    expect(secret.startsWith(row!.prefix)).toBe(true);

    const revoked = await admin(["token", "revoke", row!.prefix]);
    expect(revoked).toMatchObject({ code: 0 });
    await expect(viewerFromTokenSecret(secret, { address })).rejects.toThrow(/revoked/);
    expect((await admin(["token", "revoke", row!.id])).out.join("")).toMatch(/already revoked/);

    const audit = await listAuditEvents({ objectType: "api_token", objectId: row!.id });
    expect(audit.map((event) => event.action).sort()).toEqual(["token.create", "token.revoke"]);
  });

  it("refuses what would be a useless or too-broad token, and says why", async () => {
    const member = await createTestUser();
    const project = await createTestProject();
    const cases: [string[], RegExp][] = [
      [["--scope", "admin"], /not an admin/],
      [["--scope", "write", "--project", project.slug], /not a member/],
      [["--scope", "write", "--expires", "never"], /never expire are turned off/],
      [["--scope", "write", "--expires", "0d"], /not an expiry/],
      [["--scope", "sudo"], /not a scope/],
    ];
    for (const [extra, message] of cases) {
      const result = await admin(["token", "create", "--user", member.email, ...extra]);
      expect(result.code).not.toBe(0);
      expect(result.err.join("\n")).toMatch(message);
    }
    const listed = await admin(["token", "list", "--user", member.email, "--json"]);
    expect(JSON.parse(listed.out.join("\n"))).toEqual([]);
  });
});
