import { and, eq, sql } from "drizzle-orm";
import { db } from "../client";
import { conversions, imageVersions, images, type DiskFormat } from "../schema";
import { imageAccessCondition } from "./images";
import type { Viewer } from "./users";

export interface DownloadableVersion {
  id: string;
  version: string;
  format: DiskFormat;
  sha256: string;
  fileSize: number;
  imageSlug: string;
}

/** A ready version the viewer may see, or null. */
export async function getDownloadableVersion({ viewer, versionId }: { viewer: Viewer; versionId: string }): Promise<DownloadableVersion | null> {
  const [row] = await db()
    .select({
      id: imageVersions.id,
      version: imageVersions.version,
      format: imageVersions.format,
      sha256: imageVersions.sha256,
      fileSize: imageVersions.fileSize,
      imageSlug: images.slug,
    })
    .from(imageVersions)
    .innerJoin(images, eq(images.id, imageVersions.imageId))
    .where(and(eq(imageVersions.id, versionId), eq(imageVersions.dataStatus, "ready"), imageAccessCondition(viewer, "view")));
  if (!row?.format || !row.sha256 || row.fileSize === null) return null;
  return { ...row, format: row.format, sha256: row.sha256, fileSize: row.fileSize };
}

export interface ConversionRow {
  id: string;
  targetFormat: DiskFormat;
  status: string;
  progress: number;
  sha256: string | null;
  fileSize: number | null;
  failureReason: string | null;
}

const conversionColumns = {
  id: conversions.id,
  targetFormat: conversions.targetFormat,
  status: conversions.status,
  progress: conversions.progress,
  sha256: conversions.sha256,
  fileSize: conversions.fileSize,
  failureReason: conversions.failureReason,
};

export async function listConversions({ versionId }: { versionId: string }): Promise<ConversionRow[]> {
  return db().select(conversionColumns).from(conversions).where(eq(conversions.versionId, versionId)).orderBy(conversions.targetFormat);
}

export async function getConversion({ versionId, targetFormat }: { versionId: string; targetFormat: DiskFormat }): Promise<ConversionRow | null> {
  const [row] = await db()
    .select(conversionColumns)
    .from(conversions)
    .where(and(eq(conversions.versionId, versionId), eq(conversions.targetFormat, targetFormat)));
  return row ?? null;
}

/**
 * Returns the conversion for (version, format), creating it or re-arming a failed one. `queued`
 * says whether the caller must enqueue a job for it.
 */
export async function requestConversion({ versionId, targetFormat, requestedById }: { versionId: string; targetFormat: DiskFormat; requestedById: string }) {
  const [inserted] = await db()
    .insert(conversions)
    .values({ versionId, targetFormat, requestedById })
    .onConflictDoUpdate({
      target: [conversions.versionId, conversions.targetFormat],
      set: { status: "queued", progress: 0, failureReason: null, updatedAt: sql`now()` },
      setWhere: sql`${conversions.status} = 'failed'`,
    })
    .returning({ id: conversions.id });
  if (inserted) return { id: inserted.id, queued: true };
  const existing = await getConversion({ versionId, targetFormat });
  if (!existing) throw new Error("conversion vanished");
  return { id: existing.id, queued: false };
}
