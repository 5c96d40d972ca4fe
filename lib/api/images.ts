// The /api/v1 objects of images, versions, channels, projects and clones (the shapes in
// lib/api/openapi/images.ts), read through the same queries the pages use, and the paging of their
// lists: each list's keyset position travels inside a signed API cursor.
import type { z } from "zod";
import { listCatalogImages, listCatalogVersions, defaultOrder, type CatalogImageRow } from "@/db/queries/catalog";
import { listChannels } from "@/db/queries/channels";
import { listClones, type CloneRow } from "@/db/queries/clones";
import { getImageBySlug } from "@/db/queries/images";
import { getProject, listProjectRefs, type ProjectRef } from "@/db/queries/projects";
import type { Viewer } from "@/db/queries/users";
import { getVersionDetail, listVersionFacts, type VersionFacts } from "@/db/queries/versions";
import { env } from "@/lib/env";
import { HangarError } from "@/lib/errors";
import { readPackageCondition, type PackageCondition } from "@/lib/validations/packages";
import { cursorOf, positionOf, type Page } from "./paging";
import { DEFAULT_PAGE_SIZE } from "./openapi/common";
import type { imageListQuerySchema, versionListQuerySchema } from "./openapi/images";

const iso = (date: Date) => date.toISOString();

export const downloadUrlOf = (versionId: string) => `${env().origin}/api/v1/versions/${versionId}/download`;

function imageSummaryOf(row: CatalogImageRow) {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    project: { id: row.projectId, slug: row.projectSlug, name: row.projectName },
    os: row.os,
    osVersion: row.osVersion,
    arch: row.arch,
    visibility: row.visibility,
    tags: row.tags,
    latestVersion:
      row.latestVersionId && row.latestVersion ? { id: row.latestVersionId, version: row.latestVersion } : null,
    updatedAt: iso(row.updatedAt),
  };
}

export function versionOf(facts: VersionFacts) {
  return {
    id: facts.id,
    image: { id: facts.imageId, slug: facts.imageSlug, name: facts.imageName },
    version: facts.version,
    format: facts.format,
    fileSize: facts.fileSize,
    virtualSize: facts.virtualSize,
    sha256: facts.sha256,
    sha512: facts.sha512,
    md5: facts.md5,
    dataStatus: facts.dataStatus,
    releaseStatus: facts.releaseStatus,
    source: facts.source,
    createdAt: iso(facts.createdAt),
    downloadUrl: downloadUrlOf(facts.id),
    inspection: facts.inspection,
    boot: facts.boot ? { result: facts.boot.result, at: iso(facts.boot.at) } : null,
    failureReason: facts.failureReason,
  };
}

function projectOf(row: ProjectRef) {
  return { id: row.id, slug: row.slug, name: row.name, role: row.role, createdAt: iso(row.createdAt) };
}

export function cloneOf(row: CloneRow) {
  return {
    id: row.id,
    source: { versionId: row.sourceVersionId, imageSlug: row.sourceImageSlug, version: row.sourceVersion },
    target: { versionId: row.resultVersionId, imageSlug: row.targetImageSlug, version: row.version },
    mode: row.mode,
    status: row.status,
    failureReason: row.failureReason,
    project: { slug: row.projectSlug },
    createdAt: iso(row.createdAt),
  };
}

const notFound = (what: string) => new HangarError("not_found", `There is no ${what} that this caller can see.`);

// ── Images ──────────────────────────────────────────────────────────────────────────────────

export async function listImagesPage(
  viewer: Viewer,
  query: z.output<typeof imageListQuerySchema>,
): Promise<Page<ReturnType<typeof imageSummaryOf>>> {
  const { contains, order, cursor, limit = DEFAULT_PAGE_SIZE, ...filters } = query;
  let containsPackage: PackageCondition | undefined;
  if (contains) {
    try {
      containsPackage = readPackageCondition(contains);
    } catch (error) {
      if (error instanceof HangarError) throw new HangarError("invalid", error.message, { contains: [error.message] });
      throw error;
    }
  }
  const page = await listCatalogImages({
    viewer,
    ...filters,
    containsPackage,
    order: order ?? defaultOrder[filters.sort],
    // The sort is part of the position: a cursor from another sort would page from nowhere.
    cursor: positionOf<string>(cursor, `images:${filters.sort}:${order ?? ""}`),
    limit,
  });
  return {
    items: page.rows.map(imageSummaryOf),
    nextCursor: page.nextCursor ? cursorOf(`images:${filters.sort}:${order ?? ""}`, page.nextCursor) : null,
  };
}

export async function getImageObject(viewer: Viewer, slug: string) {
  const image = await getImageBySlug({ viewer, slug });
  if (!image) throw notFound(`image ${slug}`);
  const channels = await listChannels({ imageId: image.id });
  return {
    id: image.id,
    slug: image.slug,
    name: image.name,
    project: { id: image.projectId, slug: image.projectSlug, name: image.projectName },
    os: image.os,
    osVersion: image.osVersion,
    arch: image.arch,
    visibility: image.visibility,
    tags: image.tags,
    latestVersion:
      image.latestVersionId && image.latestVersion ? { id: image.latestVersionId, version: image.latestVersion } : null,
    updatedAt: iso(image.updatedAt),
    description: image.description,
    properties: image.properties,
    channels: channels.map((channel) => ({
      name: channel.name,
      managed: channel.managed,
      version: channel.version,
      versionId: channel.versionId,
      updatedAt: channel.updatedAt ? iso(channel.updatedAt) : null,
    })),
  };
}

// ── Versions ────────────────────────────────────────────────────────────────────────────────

/** Versions the caller sees, newest first, over the catalog's keyset on (created_at, id). */
export async function listVersionsPage(
  viewer: Viewer,
  query: Partial<z.output<typeof versionListQuerySchema>>,
): Promise<Page<ReturnType<typeof versionOf>>> {
  const { cursor, limit = DEFAULT_PAGE_SIZE, ...filters } = query;
  const page = await listCatalogVersions({
    viewer,
    ...filters,
    sort: "updated",
    order: "desc",
    cursor: positionOf<string>(cursor, "versions"),
    limit,
  });
  const facts = await listVersionFacts({ viewer, versionIds: page.rows.map((row) => row.id) });
  return {
    items: facts.map(versionOf),
    nextCursor: page.nextCursor ? cursorOf("versions", page.nextCursor) : null,
  };
}

/** An image's versions; an image the caller can't see is a 404, not an empty list. */
export async function listImageVersionsPage(
  viewer: Viewer,
  slug: string,
  query: Omit<Partial<z.output<typeof versionListQuerySchema>>, "image" | "project">,
) {
  const image = await getImageBySlug({ viewer, slug });
  if (!image) throw notFound(`image ${slug}`);
  return listVersionsPage(viewer, { ...query, image: image.slug });
}

export async function getVersionObject(viewer: Viewer, versionId: string) {
  const [facts] = await listVersionFacts({ viewer, versionIds: [versionId] });
  if (!facts) throw notFound(`version ${versionId}`);
  return versionOf(facts);
}

// ── Projects and clones ─────────────────────────────────────────────────────────────────────

export async function listProjectsPage(
  viewer: Viewer,
  { cursor, limit = DEFAULT_PAGE_SIZE }: { cursor?: string; limit?: number },
): Promise<Page<ReturnType<typeof projectOf>>> {
  const rows = await listProjectRefs({
    viewer,
    after: positionOf<{ name: string; id: string }>(cursor, "projects"),
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(projectOf),
    nextCursor: rows.length > limit && last ? cursorOf("projects", { name: last.name, id: last.id }) : null,
  };
}

async function projectRefOf(viewer: Viewer, slug: string): Promise<ProjectRef> {
  const [project] = await listProjectRefs({ viewer, slug, limit: 1 });
  if (!project) throw notFound(`project ${slug}`);
  return project;
}

export async function getProjectObject(viewer: Viewer, slug: string) {
  return projectOf(await projectRefOf(viewer, slug));
}

export async function listMemberObjects(viewer: Viewer, slug: string) {
  const project = await getProject({ viewer, slug });
  if (!project) throw notFound(`project ${slug}`);
  return {
    items: project.members.map((member) => ({
      userId: member.userId,
      email: member.email,
      name: member.name,
      role: member.role,
    })),
  };
}

/** The project's id, for actions that take one; a project the caller can't see is not found. */
export async function projectIdOf(viewer: Viewer, slug: string): Promise<string> {
  return (await projectRefOf(viewer, slug)).id;
}

export async function listProjectClonesPage(
  viewer: Viewer,
  slug: string,
  { cursor, limit = DEFAULT_PAGE_SIZE }: { cursor?: string; limit?: number },
): Promise<Page<ReturnType<typeof cloneOf>>> {
  const project = await projectRefOf(viewer, slug);
  const rows = await listClones({
    viewer,
    projectId: project.id,
    after: positionOf<CloneRow["position"]>(cursor, `clones:${project.id}`),
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(cloneOf),
    nextCursor: rows.length > limit && last ? cursorOf(`clones:${project.id}`, last.position) : null,
  };
}

export async function getCloneObject(viewer: Viewer, cloneId: string) {
  const [row] = await listClones({ viewer, cloneIds: [cloneId], limit: 1 });
  if (!row) throw notFound(`clone ${cloneId}`);
  return cloneOf(row);
}

export async function getImageVersionObject(viewer: Viewer, slug: string, version: string) {
  const detail = await getVersionDetail({ viewer, imageSlug: slug, version });
  if (!detail) throw notFound(`version ${version} of ${slug}`);
  return getVersionObject(viewer, detail.id);
}
