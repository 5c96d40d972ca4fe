// Tests own their data: every fixture gets a unique name so tests can run in any order against
// one shared database.
import { randomBytes, randomUUID } from "node:crypto";
import { copyFile } from "node:fs/promises";
import path from "node:path";
import { eq } from "drizzle-orm";
import { db } from "@/db/client";
import { contentScans } from "@/db/schema";
import { queueBuild } from "@/db/queries/builds";
import { createImage, createReadyVersion } from "@/db/queries/images";
import { saveRecipe } from "@/db/queries/recipes";
import { getViewerById, type Viewer } from "@/db/queries/users";
import {
  builds,
  imageVersions,
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
import { env } from "@/lib/env";
import { getBlobStore, hashFile } from "@/lib/storage";

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
  const [project] = await db()
    .insert(projects)
    .values({ slug, name: `Project ${slug}` })
    .returning({ id: projects.id, slug: projects.slug });
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

/**
 * A build's output waiting for review, as the build engine leaves it, without running one: a
 * recipe in `projectId` whose revisions are written by `authors` in turn, a build of the last
 * revision started by `starter`, and the version it produced (recorded as the engine does, with the
 * starter as its creator). Every caller must be a member of the project (or an admin).
 */
export async function createTestBuildOutput({
  projectId,
  authors,
  starter,
}: {
  projectId: string;
  authors: Viewer[];
  starter: Viewer;
}) {
  const base = await createTestImage({ projectId, versions: [{ version: "1.0", releaseStatus: "approved" }] });
  const output = await createTestImage({ projectId, versions: [] });
  let saved: Awaited<ReturnType<typeof saveRecipe>> | undefined;
  for (const [index, author] of authors.entries()) {
    const document = {
      name: unique("recipe"),
      description: "",
      base: { image: base.slug, version: "1.0" },
      steps: [{ type: "write" as const, path: "/etc/revision", content: `revision ${index + 1}` }],
      output: { image: output.slug, format: "qcow2" as const },
    };
    saved = await saveRecipe({ viewer: author, recipeId: saved?.recipeId, projectId, document });
  }
  if (!saved) throw new Error("a recipe needs at least one author");
  const queued = await queueBuild({
    viewer: starter,
    recipeId: saved.recipeId,
    force: true,
    send: async () => "not-sent",
  });
  if (!queued.queued) throw new Error("expected a new build");
  const [baseVersion] = await db()
    .select({ id: imageVersions.id })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, base.id));
  return db().transaction(async (tx) => {
    const version = await createReadyVersion({
      tx,
      actorId: starter.id,
      values: {
        imageId: output.id,
        version: `build-${queued.number}`,
        format: "qcow2",
        virtualSize: 64 * 1024 * 1024,
        fileSize: 1024 * 1024,
        sha256: randomBytes(32).toString("hex"),
        sha512: randomBytes(64).toString("hex"),
        releaseStatus: "pending_review",
        source: "build",
        parentVersionId: baseVersion!.id,
        recipeRevisionId: saved.revisionId,
        buildId: queued.buildId,
      },
    });
    await tx
      .update(builds)
      .set({ status: "succeeded", outputVersionId: version.id, finishedAt: new Date() })
      .where(eq(builds.id, queued.buildId));
    return { versionId: version.id, recipeId: saved.recipeId, buildId: queued.buildId };
  });
}

/** Puts a real disk file into the blob store (a copy: the file itself stays), as an upload would. */
export async function storeTestBlob(file: string) {
  const hashes = await hashFile(file);
  const temp = path.join(env().dataDir, `test-blob-${hashes.sha256.slice(0, 12)}-${randomUUID()}`);
  await copyFile(file, temp);
  await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hashes.sha256, size: hashes.size });
  return hashes;
}

/**
 * Writes a content scan row as a test wants it. A version made ready already holds a queued scan of
 * its blob (the inspection job's), so this replaces that row rather than adding a second one.
 */
export async function writeTestScan(values: typeof contentScans.$inferInsert): Promise<void> {
  await db().insert(contentScans).values(values).onConflictDoUpdate({ target: contentScans.sha256, set: values });
}
