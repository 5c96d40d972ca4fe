// Tests own their data: every fixture gets a unique name so tests can run in any order against
// one shared database.
import { randomBytes, randomUUID } from "node:crypto";
import { db } from "@/db/client";
import { createImage, createReadyVersion } from "@/db/queries/images";
import { getViewerById, type Viewer } from "@/db/queries/users";
import {
  projectMembers,
  projects,
  users,
  type Architecture,
  type DiskFormat,
  type ProjectRole,
  type ReleaseStatus,
  type UserRole,
  type Visibility,
} from "@/db/schema";

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function createTestUser({ role = "member" }: { role?: UserRole } = {}): Promise<Viewer> {
  const [user] = await db()
    .insert(users)
    .values({ email: `${unique("user")}@test.local`, name: "Test user", role })
    .returning({ id: users.id });
  if (!user) throw new Error("no user");
  return (await viewerOf(user.id))!;
}

export async function viewerOf(id: string): Promise<Viewer | null> {
  return getViewerById({ id });
}

export async function createTestProject({ members = [] }: { members?: { viewer: Viewer; role: ProjectRole }[] } = {}) {
  const slug = unique("proj");
  const [project] = await db().insert(projects).values({ slug, name: `Project ${slug}` }).returning({ id: projects.id, slug: projects.slug });
  if (!project) throw new Error("no project");
  if (members.length) {
    await db()
      .insert(projectMembers)
      .values(members.map(({ viewer, role }) => ({ projectId: project.id, userId: viewer.id, role })));
  }
  return project;
}

export interface TestVersion {
  version?: string;
  format?: DiskFormat;
  virtualSize?: number;
  releaseStatus?: ReleaseStatus;
  createdAt?: Date;
}

export async function createTestImage({
  projectId,
  slug = unique("img"),
  name = unique("image"),
  description = "",
  os = "Debian",
  osVersion = "12",
  arch = "x86_64",
  visibility = "private",
  tags = [],
  versions = [{}],
}: {
  projectId: string;
  slug?: string;
  name?: string;
  description?: string;
  os?: string;
  osVersion?: string;
  arch?: Architecture;
  visibility?: Visibility;
  tags?: string[];
  versions?: TestVersion[];
}) {
  return db().transaction(async (tx) => {
    const image = await createImage({
      tx,
      actorId: null,
      values: { slug, name, description, os, osVersion, arch, visibility, projectId, tags },
    });
    let index = 0;
    for (const version of versions) {
      index += 1;
      await createReadyVersion({
        tx,
        actorId: null,
        values: {
          imageId: image.id,
          version: version.version ?? `1.${index}`,
          format: version.format ?? "qcow2",
          virtualSize: version.virtualSize ?? 64 * 1024 * 1024,
          fileSize: 1024 * 1024,
          sha256: randomBytes(32).toString("hex"),
          sha512: randomBytes(64).toString("hex"),
          releaseStatus: version.releaseStatus ?? "approved",
          source: "upload",
          createdAt: version.createdAt ?? new Date(Date.now() - (versions.length - index) * 1000),
        },
      });
    }
    return image;
  });
}

/** Polls `read` until `done` holds, for work that finishes in a job; throws with the last value on timeout. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 240_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
