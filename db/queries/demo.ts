// The demo catalog's real Debian (lib/content/demo-debian.ts): what its job needs to know about the
// version it fills and the image its recipe builds into.
import { sql } from "drizzle-orm";
import { db, type Database } from "../client";
import { imageVersions } from "../schema";
import { refreshImageLatest } from "./images";

export interface DemoDebianPlan {
  adminId: string;
  projectId: string;
  baseSlug: string;
  baseVersion: string;
  outputSlug: string;
}

/** The output image is the demo's `<base>-hello` image in the same project. */
export async function getDemoDebianPlan({ versionId }: { versionId: string }): Promise<DemoDebianPlan | null> {
  const result = await db().execute<{
    admin_id: string | null;
    project_id: string;
    base_slug: string;
    version: string;
    output_slug: string | null;
  }>(sql`
    select v.created_by_id as admin_id, i.project_id, i.slug as base_slug, v.version,
           (select o.slug from images o where o.project_id = i.project_id and o.slug = i.slug || '-hello') as output_slug
    from image_versions v join images i on i.id = v.image_id
    where v.id = ${versionId}`);
  const row = result.rows[0];
  if (!row?.admin_id || !row.output_slug) return null;
  return {
    adminId: row.admin_id,
    projectId: row.project_id,
    baseSlug: row.base_slug,
    baseVersion: row.version,
    outputSlug: row.output_slug,
  };
}

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type { Tx as DemoTx };

/** The version the demo job fills: importing from the start, so the page shows its progress; approved by the seeding admin. */
export async function createPendingDemoVersion(
  tx: Tx,
  {
    imageId,
    version,
    adminId,
    sourceUrl,
    filename,
  }: { imageId: string; version: string; adminId: string; sourceUrl: string; filename: string },
): Promise<string> {
  const [row] = await tx
    .insert(imageVersions)
    .values({
      imageId,
      version,
      source: "url",
      sourceUrl,
      originalFilename: filename,
      dataStatus: "importing",
      releaseStatus: "approved",
      bytesReceived: 0,
      bytesTotal: DEMO_DEBIAN_EXPECTED_BYTES,
      notes: "Made by Hangar with debootstrap from Debian's packages (the demo catalog's real image).",
      createdById: adminId,
    })
    .returning({ id: imageVersions.id });
  if (!row) throw new Error("inserting the demo version returned nothing");
  await refreshImageLatest(tx, imageId);
  return row.id;
}

/** The demo Debian version's original file name: how its page knows it is being built, not downloaded. */
export const DEMO_DEBIAN_FILENAME = "debian-12-minimal.qcow2";

/** What the finished root file system weighs, for the progress bar (measured: about 600 MB). */
export const DEMO_DEBIAN_EXPECTED_BYTES = 600 * 1024 * 1024;
