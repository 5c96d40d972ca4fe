// A converted download as its worker makes it (lib/imports/convert.ts): what to convert, progress
// and failure, and the cached result landing with its blob in one transaction.
import { and, eq, isNotNull, not, sql } from "drizzle-orm";
import { db } from "../client";
import { blobs, conversions, imageVersions } from "../schema";
import { liveProcessSql } from "./processes";

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
  values: Partial<Pick<typeof conversions.$inferInsert, "status" | "progress" | "failureReason" | "processId">>,
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

export const DEAD_CONVERSION_REASON =
  "The worker making this conversion stopped without finishing it (its process or machine died); request it again.";

/** Ends running conversions whose process died; returns their ids. */
export async function failConversionsOfDeadProcesses({ leaseSeconds }: { leaseSeconds: number }): Promise<string[]> {
  const rows = await db()
    .update(conversions)
    .set({ status: "failed", failureReason: DEAD_CONVERSION_REASON, updatedAt: sql`now()` })
    .where(
      and(
        eq(conversions.status, "running"),
        isNotNull(conversions.processId),
        not(liveProcessSql(sql`${conversions.processId}`, leaseSeconds)),
      ),
    )
    .returning({ id: conversions.id });
  return rows.map((row) => row.id);
}
