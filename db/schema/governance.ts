// Governance: reviews, scheduled releases and channels.
import { sql } from "drizzle-orm";
import { bigserial, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, inList } from "./columns";
import { users } from "./auth";
import { imageVersions, images } from "./images";

export const reviewDecisions = ["approved", "rejected"] as const;
export type ReviewDecision = (typeof reviewDecisions)[number];

/** An admin's decision on a version; the version's producer can never be its reviewer. */
export const reviews = pgTable(
  "reviews",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    reviewerId: uuid("reviewer_id").references(() => users.id, { onDelete: "set null" }),
    decision: text("decision").$type<ReviewDecision>().notNull(),
    reason: text("reason").notNull().default(""),
    createdAt: createdAt(),
  },
  (table) => [
    index("reviews_version_idx").on(table.versionId),
    check("reviews_decision_check", inList("decision", reviewDecisions)),
  ],
);

/** Deprecations, disablements and revocations set for a later date, applied by the scheduler. */
export const scheduledReleases = pgTable(
  "scheduled_releases",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    action: text("action").notNull(),
    reason: text("reason").notNull().default(""),
    replacementVersionId: uuid("replacement_version_id").references(() => imageVersions.id, { onDelete: "set null" }),
    runAt: timestamp("run_at", { withTimezone: true, mode: "date" }).notNull(),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    appliedAt: timestamp("applied_at", { withTimezone: true, mode: "date" }),
    outcome: text("outcome"),
  },
  (table) => [
    index("scheduled_releases_due_idx")
      .on(table.runAt)
      .where(sql`applied_at is null`),
  ],
);

/** Named pointers per image (`stable`, `testing`); `latest` is derived and never stored. */
export const channels = pgTable(
  "channels",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("channels_image_name_key").on(table.imageId, table.name)],
);

export const channelMoves = pgTable(
  "channel_moves",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    channelId: uuid("channel_id")
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    fromVersionId: uuid("from_version_id").references(() => imageVersions.id, { onDelete: "set null" }),
    toVersionId: uuid("to_version_id").references(() => imageVersions.id, { onDelete: "set null" }),
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [index("channel_moves_channel_idx").on(table.channelId, table.at)],
);
