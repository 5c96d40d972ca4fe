// The LXD/Incus metadata tarballs of offered versions and their combined fingerprints
// (platform_artifacts), made once per version in the background (lib/feeds/artifacts.ts).
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Architecture, PlatformArtifactKind } from "@/db/enums";
import { db } from "../client";
import { platformArtifacts } from "../schema";

export interface PlatformArtifactRow {
  versionId: string;
  kind: PlatformArtifactKind;
  sha256: string;
  size: number;
  combinedSha256: string;
}

export async function listPlatformArtifacts({ versionIds }: { versionIds: string[] }): Promise<PlatformArtifactRow[]> {
  if (!versionIds.length) return [];
  return db()
    .select({
      versionId: platformArtifacts.versionId,
      kind: platformArtifacts.kind,
      sha256: platformArtifacts.sha256,
      size: platformArtifacts.size,
      combinedSha256: platformArtifacts.combinedSha256,
    })
    .from(platformArtifacts)
    .where(inArray(platformArtifacts.versionId, versionIds));
}

export async function getPlatformArtifactContent({
  versionId,
  kind,
}: {
  versionId: string;
  kind: PlatformArtifactKind;
}): Promise<{ content: Buffer; sha256: string } | null> {
  const [row] = await db()
    .select({ content: platformArtifacts.content, sha256: platformArtifacts.sha256 })
    .from(platformArtifacts)
    .where(and(eq(platformArtifacts.versionId, versionId), eq(platformArtifacts.kind, kind)));
  return row ?? null;
}

/** Stores a version's artifacts; made twice (two workers), the first stays. */
export async function savePlatformArtifacts(rows: (PlatformArtifactRow & { content: Buffer })[]): Promise<void> {
  if (rows.length) await db().insert(platformArtifacts).values(rows).onConflictDoNothing();
}

/** What a version's metadata tarball is made from, and its disk; null unless it is a ready qcow2 without a backing file. */
export async function getArtifactSource({ versionId }: { versionId: string }): Promise<{
  versionId: string;
  imageSlug: string;
  imageName: string;
  os: string;
  osVersion: string;
  arch: Architecture;
  version: string;
  createdAt: Date;
  approvedAt: Date | null;
  sha256: string;
} | null> {
  const result = await db().execute<{
    version_id: string;
    image_slug: string;
    image_name: string;
    os: string;
    os_version: string;
    arch: Architecture;
    version: string;
    created_at: string;
    approved_at: string | null;
    sha256: string;
  }>(sql`
    select v.id as version_id, i.slug as image_slug, i.name as image_name, i.os, i.os_version, i.arch,
      v.version, v.created_at, v.sha256,
      (select min(r.created_at) from reviews r where r.version_id = v.id and r.decision = 'approved') as approved_at
    from image_versions v join images i on i.id = v.image_id
    where v.id = ${versionId} and v.data_status = 'ready' and v.format = 'qcow2' and v.backing_version_id is null`);
  const row = result.rows[0];
  if (!row) return null;
  return {
    versionId: row.version_id,
    imageSlug: row.image_slug,
    imageName: row.image_name,
    os: row.os,
    osVersion: row.os_version,
    arch: row.arch,
    version: row.version,
    createdAt: new Date(row.created_at),
    approvedAt: row.approved_at ? new Date(row.approved_at) : null,
    sha256: row.sha256,
  };
}
