// Teams: sharing images with other projects, and clones.
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { cloneModes, type CloneMode } from "../enums";
import { createdAt, inList } from "./columns";
import { users } from "./auth";
import { projects } from "./projects";
import { imageVersions, images } from "./images";

export const shareStatuses = ["pending", "accepted", "declined"] as const;
export type ShareStatus = (typeof shareStatuses)[number];

/**
 * A `shared` image is offered to chosen projects; it shows in a receiving project's catalog only
 * once that project's owner accepted. Only approved (or deprecated) versions are ever visible there.
 */
export const imageShares = pgTable(
  "image_shares",
  {
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    status: text("status").$type<ShareStatus>().notNull().default("pending"),
    offeredById: uuid("offered_by_id").references(() => users.id, { onDelete: "set null" }),
    decidedById: uuid("decided_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    decidedAt: timestamp("decided_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    primaryKey({ columns: [table.imageId, table.projectId] }),
    index("image_shares_project_idx").on(table.projectId, table.status),
    check("image_shares_status_check", inList("status", shareStatuses)),
  ],
);

export const cloneStatuses = ["queued", "running", "succeeded", "failed"] as const;
export type CloneStatus = (typeof cloneStatuses)[number];

/**
 * One request to clone a version into a project. The new version (and the new image, when one was
 * asked for) is created only when the clone succeeds, in one transaction with its blob, so a
 * failed or running clone leaves nothing half-made in the catalog; the request row keeps the
 * progress and the reason.
 */
export const clones = pgTable(
  "clones",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sourceVersionId: uuid("source_version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** The existing image that gets the new version, or null when `newImage` names one to create. */
    targetImageId: uuid("target_image_id").references(() => images.id, { onDelete: "cascade" }),
    newImage: jsonb("new_image").$type<{ slug: string; name: string }>(),
    version: text("version").notNull(),
    mode: text("mode").$type<CloneMode>().notNull(),
    /** virt-sysprep operations run on the copy; empty for none. */
    resetOperations: text("reset_operations")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    status: text("status").$type<CloneStatus>().notNull().default("queued"),
    progress: integer("progress").notNull().default(0),
    stage: text("stage").notNull().default(""),
    failureReason: text("failure_reason"),
    /** Quota held for the clone while it runs. */
    reservedBytes: bigint("reserved_bytes", { mode: "number" }).notNull().default(0),
    resultVersionId: uuid("result_version_id").references(() => imageVersions.id, { onDelete: "set null" }),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    index("clones_source_idx").on(table.sourceVersionId),
    index("clones_project_idx").on(table.projectId, table.createdAt),
    check("clones_mode_check", inList("mode", cloneModes)),
    check("clones_status_check", inList("status", cloneStatuses)),
  ],
);
