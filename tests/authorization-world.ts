// The people and projects the authorization matrix runs against: one project P with a viewer, a
// member and an owner; another project Q with a member and an owner of its own; an admin; and
// nobody signed in. Targets are made fresh per cell so an allowed call never changes the next one.
import { execFile } from "node:child_process";
import { copyFile, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { asc, count, eq } from "drizzle-orm";
import { expect } from "vitest";
import { db } from "@/db/client";
import { createReadyVersion } from "@/db/queries/images";
import type { Viewer } from "@/db/queries/users";
import { auditEvents, imageVersions, type ReleaseStatus, type Visibility } from "@/db/schema";
import { env } from "@/lib/env";
import { getBlobStore, hashFile } from "@/lib/storage";
import { createTestImage, createTestProject, createTestUser, viewerOf } from "./fixtures";

const run = promisify(execFile);

export const callerNames = ["anonymous", "viewer", "member", "owner", "other member", "other owner", "admin"] as const;
export type CallerName = (typeof callerNames)[number];

/** What a caller gets: allowed, or refused with this code. */
export type Outcome = "ok" | "unauthenticated" | "not_found" | "forbidden";
export type Expectation = Record<CallerName, Outcome>;

// The usual rows of the matrix, named after who may.
export const anyoneSignedIn: Expectation = {
  anonymous: "unauthenticated",
  viewer: "ok",
  member: "ok",
  owner: "ok",
  "other member": "ok",
  "other owner": "ok",
  admin: "ok",
};
export const projectRoles: Expectation = { ...anyoneSignedIn, "other member": "not_found", "other owner": "not_found" };
export const contributors: Expectation = { ...projectRoles, viewer: "forbidden" };
export const managers: Expectation = { ...contributors, member: "forbidden" };
export const adminsOnly: Expectation = { ...managers, owner: "forbidden" };

export interface World {
  callers: Record<CallerName, Viewer | null>;
  /** P: the project the targets live in. */
  project: { id: string; slug: string };
  /** Q: the project of the "other" callers. */
  otherProject: { id: string; slug: string };
  /** R: a third project nobody of the callers belongs to, with an owner of its own. */
  thirdProject: { id: string; slug: string };
  thirdOwner: Viewer;
  /** A real small qcow2 in the blob store, for downloads and linked clones. */
  blob: { sha256: string; sha512: string; size: number; virtualSize: number };
}

const reload = async (viewer: Viewer) => (await viewerOf(viewer.id))!;

export async function createWorld(): Promise<World> {
  const [viewer, member, owner, otherMember, otherOwner, admin, thirdOwner] = await Promise.all([
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser(),
    createTestUser({ role: "admin" }),
    createTestUser(),
  ]);
  const project = await createTestProject({
    members: [
      { viewer, role: "viewer" },
      { viewer: member, role: "member" },
      { viewer: owner, role: "owner" },
    ],
  });
  const otherProject = await createTestProject({
    members: [
      { viewer: otherMember, role: "member" },
      { viewer: otherOwner, role: "owner" },
    ],
  });
  const thirdProject = await createTestProject({ members: [{ viewer: thirdOwner, role: "owner" }] });
  const virtualSize = 4 * 1024 ** 2;
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-authz-"));
  const file = path.join(dir, "base.qcow2");
  await run("qemu-img", ["create", "-q", "-f", "qcow2", file, String(virtualSize)]);
  const hashes = await hashFile(file);
  // putFromTempFile moves the file; it must start inside the data directory (same filesystem).
  const temp = path.join(env().dataDir, `authz-base-${hashes.sha256.slice(0, 12)}`);
  await copyFile(file, temp);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hashes.sha256, size: hashes.size });
  return {
    callers: {
      anonymous: null,
      viewer: await reload(viewer),
      member: await reload(member),
      owner: await reload(owner),
      "other member": await reload(otherMember),
      "other owner": await reload(otherOwner),
      admin,
    },
    project,
    otherProject,
    thirdProject,
    thirdOwner: await reload(thirdOwner),
    blob: { ...hashes, virtualSize },
  };
}

/** An image of `projectId` with fixture versions ("1.1", "1.2", … in the given states), ids by label. */
export async function imageWith(projectId: string, statuses: ReleaseStatus[], visibility: Visibility = "private") {
  const image = await createTestImage({
    projectId,
    visibility,
    versions: statuses.map((releaseStatus) => ({ releaseStatus })),
  });
  const rows = await db()
    .select({ id: imageVersions.id, version: imageVersions.version })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, image.id))
    .orderBy(asc(imageVersions.version));
  return { ...image, versions: rows.map((row) => row.id) };
}

/** A version whose sha256 is the world's real blob, so it can be downloaded and cloned. */
export async function realVersion(
  world: World,
  {
    projectId,
    releaseStatus = "approved",
    visibility = "private",
  }: { projectId: string; releaseStatus?: ReleaseStatus; visibility?: Visibility },
) {
  const image = await createTestImage({ projectId, visibility, versions: [] });
  const version = await db().transaction((tx) =>
    createReadyVersion({
      tx,
      actorId: null,
      values: {
        imageId: image.id,
        version: "1.0",
        format: "qcow2",
        virtualSize: world.blob.virtualSize,
        fileSize: world.blob.size,
        sha256: world.blob.sha256,
        sha512: world.blob.sha512,
        releaseStatus,
        source: "upload",
      },
    }),
  );
  return { imageId: image.id, imageSlug: image.slug, versionId: version.id };
}

export const auditCount = async () => (await db().select({ n: count() }).from(auditEvents))[0]!.n;

/** The cells of a matrix: one row per (case, caller). */
export function cellsOf<Case extends { name: string; expected: Expectation }>(
  cases: Case[],
): [string, CallerName, Outcome, Case][] {
  return cases.flatMap((entry) =>
    callerNames.map(
      (caller) => [entry.name, caller, entry.expected[caller], entry] as [string, CallerName, Outcome, Case],
    ),
  );
}

/** An action's result against the cell's expectation. */
export function expectOutcome(result: { ok: boolean; code?: string; message?: string }, outcome: Outcome) {
  if (outcome === "ok") expect(result, result.ok ? "" : `refused: ${result.message}`).toMatchObject({ ok: true });
  else expect(result).toMatchObject({ ok: false, code: outcome });
}
