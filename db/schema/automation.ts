// Automation: API tokens, webhooks with their deliveries, and per-image retention rules.
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { projectRoles, tokenScopes, webhookDeliveryStatuses } from "../enums";
import type { ProjectRole, TokenScope, WebhookDeliveryStatus, WebhookEventType } from "../enums";
import { createdAt, inList } from "./columns";
import { users } from "./auth";
import { projects } from "./projects";
import { images } from "./images";

/**
 * A personal token acts as its owner within `scope`; a project token (project_id set) also only
 * within that project and at most `project_role` there. Rights are the owner's at the time of use,
 * so a token never outlives a demotion. Only the sha256 of the secret is kept; `prefix` is the
 * visible start of the secret, for recognising it in a list.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "cascade" }),
    projectRole: text("project_role").$type<ProjectRole>(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    secretHash: text("secret_hash").notNull(),
    scope: text("scope").$type<TokenScope>().notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    lastUsedAddress: text("last_used_address"),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    revokedById: uuid("revoked_by_id").references(() => users.id, { onDelete: "set null" }),
  },
  (table) => [
    uniqueIndex("api_tokens_secret_hash_key").on(table.secretHash),
    index("api_tokens_user_idx").on(table.userId, table.createdAt),
    index("api_tokens_project_idx").on(table.projectId, table.createdAt),
    check("api_tokens_scope_check", inList("scope", tokenScopes)),
    check("api_tokens_project_role_check", sql`project_role is null or ${inList("project_role", projectRoles)}`),
    check("api_tokens_project_pair_check", sql`(project_id is null) = (project_role is null)`),
  ],
);

/** A project's webhook (project_id set, managed by its owners) or a global one (admins). */
export const webhooks = pgTable(
  "webhooks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    secret: text("secret").notNull(),
    events: text("events").array().$type<WebhookEventType[]>().notNull(),
    description: text("description").notNull().default(""),
    active: boolean("active").notNull().default(true),
    /** Set only by an admin: deliveries may go to loopback and private addresses. */
    allowInternal: boolean("allow_internal").notNull().default(false),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [index("webhooks_project_idx").on(table.projectId)],
);

/** One attempt series to deliver one event to one webhook; a redelivery is a new row. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    webhookId: uuid("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: uuid("event_id").notNull(),
    eventType: text("event_type").$type<WebhookEventType>().notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status").$type<WebhookDeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    responseStatus: integer("response_status"),
    responseExcerpt: text("response_excerpt"),
    durationMs: integer("duration_ms"),
    error: text("error"),
    redeliveryOf: uuid("redelivery_of"),
    createdAt: createdAt(),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true, mode: "date" }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    index("webhook_deliveries_webhook_idx").on(table.webhookId, table.createdAt),
    check("webhook_deliveries_status_check", inList("status", webhookDeliveryStatuses)),
  ],
);

/**
 * How long an image's versions stay: keep the newest N approved, deprecate approved versions older
 * than D days once a newer approved one exists, delete deprecated ones after E days. Null = no rule.
 */
export const retentionRules = pgTable(
  "retention_rules",
  {
    imageId: uuid("image_id")
      .primaryKey()
      .references(() => images.id, { onDelete: "cascade" }),
    keepNewestApproved: integer("keep_newest_approved"),
    deprecateAfterDays: integer("deprecate_after_days"),
    deleteDeprecatedAfterDays: integer("delete_deprecated_after_days"),
    enabled: boolean("enabled").notNull().default(true),
    updatedById: uuid("updated_by_id").references(() => users.id, { onDelete: "set null" }),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastRunAt: timestamp("last_run_at", { withTimezone: true, mode: "date" }),
    lastRunSummary: jsonb("last_run_summary"),
  },
  (_table) => [
    check("retention_rules_keep_check", sql`keep_newest_approved is null or keep_newest_approved >= 1`),
    check("retention_rules_deprecate_check", sql`deprecate_after_days is null or deprecate_after_days >= 1`),
    check(
      "retention_rules_delete_check",
      sql`delete_deprecated_after_days is null or delete_deprecated_after_days >= 1`,
    ),
  ],
);
