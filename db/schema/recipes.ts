import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { buildStatuses } from "../enums";
import type { DiskFormat, BuildStatus } from "../enums";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { createdAt, inList } from "./columns";
import { users } from "./auth";
import { projects } from "./projects";
import { blobs, imageVersions, images } from "./images";

// ── Customization ────────────────────────────────────────────────────────────────────────────
// A recipe belongs to a project; every save is a new immutable revision holding the whole
// normalised document (base, steps, output), so a build always knows exactly what it ran.

export const recipes = pgTable(
  "recipes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    name: text("name").notNull(),
    latestRevision: integer("latest_revision").notNull().default(0),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [index("recipes_project_idx").on(table.projectId), index("recipes_updated_idx").on(table.updatedAt)],
);

export const recipeRevisions = pgTable(
  "recipe_revisions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    recipeId: uuid("recipe_id")
      .notNull()
      .references(() => recipes.id, { onDelete: "cascade" }),
    revision: integer("revision").notNull(),
    /** The normalised recipe document (what YAML export prints). */
    document: jsonb("document").$type<RecipeDocument>().notNull(),
    baseImageId: uuid("base_image_id")
      .notNull()
      .references(() => images.id),
    baseVersionId: uuid("base_version_id").references(() => imageVersions.id),
    baseChannel: text("base_channel"),
    outputImageId: uuid("output_image_id")
      .notNull()
      .references(() => images.id),
    outputFormat: text("output_format").$type<DiskFormat>().notNull(),
    growToBytes: bigint("grow_to_bytes", { mode: "number" }),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("recipe_revisions_recipe_revision_key").on(table.recipeId, table.revision),
    check("recipe_revisions_base_check", sql`(base_version_id is null) <> (base_channel is null)`),
  ],
);

/**
 * Files attached to recipes ("upload a file" steps). A recipe may only reference files attached in
 * its own project: a bare sha256 would otherwise let anyone copy any stored blob into a guest.
 */
export const recipeFiles = pgTable(
  "recipe_files",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    sha256: text("sha256")
      .notNull()
      .references(() => blobs.sha256),
    filename: text("filename").notNull().default(""),
    size: bigint("size", { mode: "number" }).notNull(),
    uploadedById: uuid("uploaded_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.projectId, table.sha256] })],
);

export const builds = pgTable(
  "builds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    number: bigserial("number", { mode: "number" }).notNull(),
    recipeId: uuid("recipe_id")
      .notNull()
      .references(() => recipes.id, { onDelete: "cascade" }),
    revisionId: uuid("revision_id")
      .notNull()
      .references(() => recipeRevisions.id, { onDelete: "cascade" }),
    baseVersionId: uuid("base_version_id")
      .notNull()
      .references(() => imageVersions.id),
    /** sha256(base version sha256 + normalised recipe revision). */
    fingerprint: text("fingerprint").notNull(),
    status: text("status").$type<BuildStatus>().notNull().default("queued"),
    steps: jsonb("steps")
      .$type<{ label: string; status: "pending" | "running" | "done" | "failed" }[]>()
      .notNull()
      .default([]),
    outputVersionId: uuid("output_version_id").references(() => imageVersions.id, { onDelete: "set null" }),
    failureReason: text("failure_reason"),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
    /** What the build holds in its output project's quota while queued or running (see projectUsage). */
    reservedBytes: bigint("reserved_bytes", { mode: "number" }).notNull().default(0),
    attempt: integer("attempt").notNull().default(0),
    /** Where it runs, so a dead worker's build is noticed and its processes can be stopped. */
    workerHost: text("worker_host"),
    workerPid: integer("worker_pid"),
    processGroup: integer("process_group"),
    /** How its worker ran guests (kvm or tcg) and why, and the wall-clock limit it enforced: shown on the build page. */
    acceleration: text("acceleration").$type<"kvm" | "tcg">(),
    accelerationReason: text("acceleration_reason"),
    timeLimitSeconds: integer("time_limit_seconds"),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "date" }),
    cancelRequestedAt: timestamp("cancel_requested_at", { withTimezone: true, mode: "date" }),
    queuedAt: timestamp("queued_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    uniqueIndex("builds_number_key").on(table.number),
    index("builds_recipe_idx").on(table.recipeId, table.queuedAt),
    index("builds_queued_idx").on(table.queuedAt, table.id),
    index("builds_fingerprint_idx")
      .on(table.fingerprint)
      .where(sql`status = 'succeeded'`),
    index("builds_running_idx")
      .on(table.heartbeatAt)
      .where(sql`status = 'running'`),
    uniqueIndex("builds_output_key").on(table.outputVersionId),
    check("builds_status_check", inList("status", buildStatuses)),
  ],
);

export const buildLogs = pgTable(
  "build_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    buildId: uuid("build_id")
      .notNull()
      .references(() => builds.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    stream: text("stream").notNull().default("out"),
    line: text("line").notNull(),
  },
  (table) => [index("build_logs_build_idx").on(table.buildId, table.id)],
);
