// Project membership rules on the real database, as a matrix of callers × actions: allowed calls
// change what they should, denied calls change nothing.
import { and, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { projectMembers, projects, users } from "@/db/schema";
import {
  cancelInvitationAction,
  createProjectAction,
  removeMemberAction,
  setMemberAction,
  setQuotaAction,
} from "@/lib/actions/project-actions";
import { createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import { acceptInvitations, getProject, listProjects } from "./projects";
import type { Viewer } from "./users";

let admin: Viewer;
let owner: Viewer;
let member: Viewer;
let reader: Viewer;
let outsider: Viewer;
let newcomer: Viewer;
let projectId: string;
let projectSlug: string;

const reload = async (viewer: Viewer) => (await viewerOf(viewer.id))!;
const memberRows = async () =>
  db()
    .select({ userId: projectMembers.userId, role: projectMembers.role })
    .from(projectMembers)
    .where(eq(projectMembers.projectId, projectId));

beforeAll(async () => {
  [admin, owner, member, reader, outsider, newcomer] = await Promise.all([
    createTestUser({ role: "admin" }),
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
  ]);
  const project = await createTestProject({
    members: [
      { viewer: owner, role: "owner" },
      { viewer: member, role: "member" },
      { viewer: reader, role: "viewer" },
    ],
  });
  projectId = project.id;
  projectSlug = project.slug;
  [owner, member, reader] = await Promise.all([reload(owner), reload(member), reload(reader)]);
  await db()
    .insert(projectMembers)
    .values({ projectId: (await createTestProject()).id, userId: outsider.id, role: "owner" });
  outsider = await reload(outsider);
});

describe("managing members: who may", () => {
  const callers = [
    ["anonymous", () => null, "unauthenticated"],
    ["a viewer", () => reader, "forbidden"],
    ["a member", () => member, "forbidden"],
    ["another project's owner", () => outsider, "not_found"],
  ] as const;
  it.each(callers)("refuses %s to add, change or remove members, and nothing changes", async (_, caller, code) => {
    const before = await memberRows();
    expect(await setMemberAction(caller(), { projectId, email: newcomer.email, role: "member" })).toMatchObject({
      ok: false,
      code,
    });
    expect(await setMemberAction(caller(), { projectId, email: member.email, role: "owner" })).toMatchObject({
      ok: false,
      code,
    });
    expect(await removeMemberAction(caller(), { projectId, userId: member.id })).toMatchObject({ ok: false, code });
    expect(await setQuotaAction(caller(), { projectId, quotaGiB: 1 })).toMatchObject({ ok: false });
    expect(await memberRows()).toEqual(before);
  });

  it("lets an owner add by email, change a role and remove; an admin sets the quota", async () => {
    expect(
      await setMemberAction(owner, { projectId, email: newcomer.email.toUpperCase(), role: "viewer" }),
    ).toMatchObject({ ok: true });
    expect(await setMemberAction(owner, { projectId, email: newcomer.email, role: "member" })).toMatchObject({
      ok: true,
    });
    expect((await memberRows()).find((row) => row.userId === newcomer.id)?.role).toBe("member");
    expect(await removeMemberAction(owner, { projectId, userId: newcomer.id })).toMatchObject({ ok: true });
    expect((await memberRows()).some((row) => row.userId === newcomer.id)).toBe(false);
    expect(await setQuotaAction(owner, { projectId, quotaGiB: 5 })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await setQuotaAction(admin, { projectId, quotaGiB: 5 })).toMatchObject({ ok: true });
    expect(
      (await db().select({ quota: projects.quotaBytes }).from(projects).where(eq(projects.id, projectId)))[0]!.quota,
    ).toBe(5 * 1024 ** 3);
  });

  it("invites an email without an account; it joins with that role at its first sign-in", async () => {
    const email = `${unique("invitee")}@example.org`;
    expect(await setMemberAction(owner, { projectId, email: email.toUpperCase(), role: "viewer" })).toMatchObject({
      ok: true,
      data: { invited: true },
    });
    expect(await setMemberAction(member, { projectId, email, role: "owner" })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect((await getProject({ viewer: owner, slug: projectSlug }))!.invitations).toEqual([
      expect.objectContaining({ email, role: "viewer" }),
    ]);
    expect((await getProject({ viewer: member, slug: projectSlug }))!.invitations).toEqual([]);
    const invitee = await createTestUser();
    await db().update(users).set({ email }).where(eq(users.id, invitee.id));
    expect(await acceptInvitations({ userId: invitee.id, email })).toBe(1);
    expect((await memberRows()).find((row) => row.userId === invitee.id)?.role).toBe("viewer");
    expect((await getProject({ viewer: owner, slug: projectSlug }))!.invitations).toEqual([]);
    expect(await acceptInvitations({ userId: invitee.id, email })).toBe(0);
    await removeMemberAction(owner, { projectId, userId: invitee.id });
  });

  it("lets an owner cancel an invitation, and no one else", async () => {
    const email = `${unique("cancelled")}@example.org`;
    await setMemberAction(owner, { projectId, email, role: "member" });
    expect(await cancelInvitationAction(outsider, { projectId, email })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await cancelInvitationAction(reader, { projectId, email })).toMatchObject({ ok: false, code: "forbidden" });
    expect(await cancelInvitationAction(owner, { projectId, email })).toMatchObject({ ok: true });
    expect(await acceptInvitations({ userId: newcomer.id, email })).toBe(0);
  });

  it("never leaves a project without an owner", async () => {
    const before = await memberRows();
    expect(await removeMemberAction(owner, { projectId, userId: owner.id })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    expect(await setMemberAction(owner, { projectId, email: owner.email, role: "member" })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    expect(await memberRows()).toEqual(before);
    // With a second owner, the first may step down.
    expect(await setMemberAction(admin, { projectId, email: member.email, role: "owner" })).toMatchObject({ ok: true });
    expect(await setMemberAction(owner, { projectId, email: owner.email, role: "member" })).toMatchObject({ ok: true });
    expect(
      (
        await db()
          .select({ n: count() })
          .from(projectMembers)
          .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.role, "owner")))
      )[0]!.n,
    ).toBe(1);
  });
});

describe("projects", () => {
  it("are created by anyone signed in, who becomes the owner; lists show only one's own", async () => {
    const slug = unique("team");
    const created = await createProjectAction(newcomer, { slug, name: "Team" });
    expect(created).toMatchObject({ ok: true });
    expect(await createProjectAction(newcomer, { slug, name: "Again" })).toMatchObject({ ok: false, code: "conflict" });
    expect(await createProjectAction(newcomer, { slug: "Bad Slug", name: "x" })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    const mine = await listProjects({ viewer: await reload(newcomer) });
    expect(mine.map((project) => [project.slug, project.role])).toEqual([[slug, "owner"]]);
    expect(await getProject({ viewer: outsider, slug: projectSlug })).toBeNull();
    expect((await getProject({ viewer: admin, slug: projectSlug }))?.can.manage).toBe(true);
  });
});
