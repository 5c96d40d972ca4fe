// Resumable (tus) upload sessions.
import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { DiskFormat } from "../enums";
import { createdAt, inList } from "./columns";
import { users } from "./auth";
import { projects } from "./projects";
import { imageVersions } from "./images";

export const uploadStatuses = ["active", "completed", "failed", "cancelled"] as const;
export type UploadStatus = (typeof uploadStatuses)[number];

// One resumable (tus) upload session. It belongs to the user who created it and to the version its
// bytes will become; the temp file's name is derived from the id, never from the user's file name.
export const uploads = pgTable(
  "uploads",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    declaredLength: bigint("declared_length", { mode: "number" }).notNull(),
    receivedBytes: bigint("received_bytes", { mode: "number" }).notNull().default(0),
    claimedFormat: text("claimed_format").$type<DiskFormat>(),
    expectedSha256: text("expected_sha256"),
    filename: text("filename").notNull().default(""),
    status: text("status").$type<UploadStatus>().notNull().default("active"),
    /**
     * The process holding this upload now (db/schema/processes.ts): receiving a PATCH, or
     * finalising it; null between requests. Another process answers 423 while it is alive.
     */
    processId: uuid("process_id"),
    /** With blobs in a bucket: the multipart upload at `<prefix>uploads/<id>` its parts go to. */
    s3UploadId: text("s3_upload_id"),
    /** Bytes from the start that are parts of that multipart upload: what any process can resume from. */
    durableBytes: bigint("durable_bytes", { mode: "number" }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (table) => [
    index("uploads_user_idx").on(table.userId),
    index("uploads_version_idx").on(table.versionId),
    index("uploads_active_project_idx")
      .on(table.projectId)
      .where(sql`status = 'active'`),
    check("uploads_status_check", inList("status", uploadStatuses)),
  ],
);
