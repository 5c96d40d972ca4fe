// A converted download as its worker makes it (lib/imports/convert.ts): what to convert, progress
// and failure, and the cached result landing with its blob in one transaction.
import { eq, sql } from "drizzle-orm";
import { db } from "../client";
import { blobs, conversions, imageVersions } from "../schema";

/** What a conversion job needs: its state, the target format and the source's stored file. */
export async function getConversionWork({ conversionId }: { conversionId: string }) {
  const [row] = await db()
    .select({
      status: conversions.status,
      targetFormat: conversions.targetFormat,
      sourceSha256: imageVersions.sha256,
      sourceFormat: imageVersions.format,
    })
    .from(conversions)
    .innerJoin(imageVersions, eq(imageVersions.id, conversions.versionId))
    .where(eq(conversions.id, conversionId));
  return row ?? null;
}

export async function setConversionState(
  conversionId: string,
  values: Partial<Pick<typeof conversions.$inferInsert, "status" | "progress" | "failureReason">>,
): Promise<void> {
  await db()
    .update(conversions)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(conversions.id, conversionId));
}

/**
 * Records the converted file, already in the blob store, and its blob in one transaction; the blob's
 * sha512 and md5 come later (blob.checksums), the download does not wait for them.
 */
export async function completeConversion({
  conversionId,
  sha256,
  size,
}: {
  conversionId: string;
  sha256: string;
  size: number;
}): Promise<void> {
  await db().transaction(async (tx) => {
    await tx.insert(blobs).values({ sha256, size }).onConflictDoNothing();
    await tx
      .update(conversions)
      .set({ status: "succeeded", progress: 100, sha256, fileSize: size, updatedAt: sql`now()` })
      .where(eq(conversions.id, conversionId));
  });
}
