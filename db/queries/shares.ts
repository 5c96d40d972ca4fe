// Sharing an image with chosen projects: the image's owners offer, the receiving project's owners
// accept or decline, and only then does the image show in that project's catalog (and only its
// released versions: see access.ts). Offering makes a private image `shared`.
import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import { db } from "../client";
import { imageShares, images, projects, users, type ShareStatus } from "../schema";
import { canInProject, projectScopedCondition, requireInProject } from "./access";
import { recordAudit } from "./audit";
import type { Viewer } from "./users";
import { isUuid } from "@/lib/ids";

async function loadImage(imageId: string) {
  if (!isUuid(imageId)) return null;
  const [image] = await db()
    .select({ id: images.id, slug: images.slug, projectId: images.projectId, visibility: images.visibility })
    .from(images)
    .where(eq(images.id, imageId));
  return image ?? null;
}

/** Offers an image to another project (by its short name); re-offering a declined share asks again. */
export async function offerShare({
  viewer,
  imageId,
  projectSlug,
}: {
  viewer: Viewer | null;
  imageId: string;
  projectSlug: string;
}): Promise<{ imageSlug: string; projectSlug: string }> {
  const image = await loadImage(imageId);
  if (!viewer) throw new HangarError("unauthenticated", "Sign in first.");
  if (!image) throw new HangarError("not_found", "That image doesn't exist or you can't see it.");
  requireInProject(viewer, image.projectId, "manage", "share its images");
  const [project] = await db()
    .select({ id: projects.id, slug: projects.slug, name: projects.name })
    .from(projects)
    .where(eq(projects.slug, projectSlug.trim().toLowerCase()));
  if (!project)
    throw new HangarError(
      "not_found",
      `There is no project called ${projectSlug}. Check its short name on its page (it appears in its address).`,
      { projectSlug: ["No such project."] },
    );
  if (project.id === image.projectId)
    throw new HangarError(
      "invalid",
      `${image.slug} already belongs to ${project.name}; share it with another project.`,
      { projectSlug: ["That is the image's own project."] },
    );
  await db().transaction(async (tx) => {
    const [before] = await tx
      .select({ status: imageShares.status })
      .from(imageShares)
      .where(and(eq(imageShares.imageId, image.id), eq(imageShares.projectId, project.id)))
      .for("update");
    if (before && before.status !== "declined")
      throw new HangarError(
        "conflict",
        `${image.slug} is already shared with ${project.name} (${before.status === "pending" ? "waiting for its owners to accept" : "accepted"}).`,
      );
    await tx
      .insert(imageShares)
      .values({ imageId: image.id, projectId: project.id, offeredById: viewer.id })
      .onConflictDoUpdate({
        target: [imageShares.imageId, imageShares.projectId],
        set: { status: "pending", offeredById: viewer.id, decidedById: null, decidedAt: null, createdAt: sql`now()` },
      });
    if (image.visibility === "private") {
      await tx
        .update(images)
        .set({ visibility: "shared", updatedAt: sql`now()` })
        .where(eq(images.id, image.id));
      await recordAudit(
        {
          actorId: viewer.id,
          action: "image.visibility",
          objectType: "image",
          objectId: image.id,
          before: { visibility: "private" },
          after: { visibility: "shared" },
        },
        tx,
      );
    }
    await recordAudit(
      {
        actorId: viewer.id,
        action: "share.offer",
        objectType: "image",
        objectId: image.id,
        before: before ?? null,
        after: { project: project.slug, status: "pending" },
      },
      tx,
    );
  });
  return { imageSlug: image.slug, projectSlug: project.slug };
}

/** The receiving project's owners (or an admin) accept or decline a pending share. */
export async function answerShare({
  viewer,
  imageId,
  projectId,
  accept,
}: {
  viewer: Viewer | null;
  imageId: string;
  projectId: string;
  accept: boolean;
}): Promise<{ imageSlug: string; projectSlug: string; status: ShareStatus }> {
  if (!viewer) throw new HangarError("unauthenticated", "Sign in first.");
  if (!isUuid(imageId) || !isUuid(projectId)) throw new HangarError("not_found", "There is no such share.");
  requireInProject(viewer, projectId, "manage", "accept or decline what is shared with the project");
  const status: ShareStatus = accept ? "accepted" : "declined";
  return db().transaction(async (tx) => {
    const [share] = await tx
      .select({ status: imageShares.status, imageSlug: images.slug, projectSlug: projects.slug })
      .from(imageShares)
      .innerJoin(images, eq(images.id, imageShares.imageId))
      .innerJoin(projects, eq(projects.id, imageShares.projectId))
      .where(and(eq(imageShares.imageId, imageId), eq(imageShares.projectId, projectId)))
      .for("update", { of: imageShares });
    if (!share) throw new HangarError("not_found", "There is no such share; it may have been withdrawn.");
    if (share.status !== "pending")
      throw new HangarError("conflict", `This share was already ${share.status}. Nothing was changed.`);
    await tx
      .update(imageShares)
      .set({ status, decidedById: viewer.id, decidedAt: sql`now()` })
      .where(and(eq(imageShares.imageId, imageId), eq(imageShares.projectId, projectId)));
    await recordAudit(
      {
        actorId: viewer.id,
        action: accept ? "share.accept" : "share.decline",
        objectType: "image",
        objectId: imageId,
        before: { project: share.projectSlug, status: "pending" },
        after: { project: share.projectSlug, status },
      },
      tx,
    );
    return { imageSlug: share.imageSlug, projectSlug: share.projectSlug, status };
  });
}

/** The image's owners withdraw a share (pending or accepted); the project stops seeing the image. */
export async function withdrawShare({
  viewer,
  imageId,
  projectId,
}: {
  viewer: Viewer | null;
  imageId: string;
  projectId: string;
}): Promise<{ imageSlug: string }> {
  if (!viewer) throw new HangarError("unauthenticated", "Sign in first.");
  const image = await loadImage(imageId);
  if (!image || !isUuid(projectId)) throw new HangarError("not_found", "There is no such share.");
  requireInProject(viewer, image.projectId, "manage", "withdraw its shares");
  await db().transaction(async (tx) => {
    const [removed] = await tx
      .delete(imageShares)
      .where(and(eq(imageShares.imageId, imageId), eq(imageShares.projectId, projectId)))
      .returning({ status: imageShares.status });
    if (!removed) throw new HangarError("not_found", "There is no such share; nothing was changed.");
    await recordAudit(
      {
        actorId: viewer.id,
        action: "share.withdraw",
        objectType: "image",
        objectId: imageId,
        before: { projectId, status: removed.status },
      },
      tx,
    );
  });
  return { imageSlug: image.slug };
}

export interface ShareRow {
  imageId: string;
  imageSlug: string;
  imageName: string;
  fromProject: string;
  projectId: string;
  projectSlug: string;
  projectName: string;
  status: ShareStatus;
  offeredBy: string | null;
  createdAt: Date;
}

function shareSelection() {
  return {
    imageId: imageShares.imageId,
    imageSlug: images.slug,
    imageName: images.name,
    fromProject: sql<string>`(select name from projects where id = ${images.projectId})`,
    projectId: imageShares.projectId,
    projectSlug: projects.slug,
    projectName: projects.name,
    status: imageShares.status,
    offeredBy: users.email,
    createdAt: imageShares.createdAt,
  };
}

function selectShares(where: SQL | undefined, order: SQL[]) {
  return db()
    .select(shareSelection())
    .from(imageShares)
    .innerJoin(images, eq(images.id, imageShares.imageId))
    .innerJoin(projects, eq(projects.id, imageShares.projectId))
    .leftJoin(users, eq(users.id, imageShares.offeredById))
    .where(where)
    .orderBy(...order);
}

/** Shares of one image, for those who may manage it (owners of its project, admins). */
export async function listImageShares({
  viewer,
  imageId,
  projectId,
}: {
  viewer: Viewer;
  imageId: string;
  projectId: string;
}): Promise<ShareRow[]> {
  if (!canInProject(viewer, projectId, "manage")) return [];
  return selectShares(eq(imageShares.imageId, imageId), [asc(projects.name)]);
}

/** What other projects shared with this one; the viewer must belong to it. */
export async function listIncomingShares({
  viewer,
  projectId,
}: {
  viewer: Viewer;
  projectId: string;
}): Promise<ShareRow[]> {
  return selectShares(
    and(
      eq(imageShares.projectId, projectId),
      projectScopedCondition(viewer, imageShares.projectId),
      sql`${imageShares.status} <> 'declined'`,
    ),
    [asc(imageShares.status), asc(images.name)],
  );
}
