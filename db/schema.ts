// The schema follows the product brief: images are families, versions are immutable files, blobs are
// content-addressed bytes. Status lives on separate axes (data, release) and never in one column.
// The `images.latest_*` columns are a denormalised copy of the newest version so the catalog can
// page through a hundred thousand images by keyset without a join per row.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  customType,
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
import {
  userRoles,
  projectRoles,
  visibilities,
  architectures,
  dataStatuses,
  releaseStatuses,
  versionSources,
  buildStatuses,
} from "./enums";
import type {
  UserRole,
  ProjectRole,
  Visibility,
  DiskFormat,
  Architecture,
  DataStatus,
  ReleaseStatus,
  VersionSource,
  BuildStatus,
} from "./enums";

export * from "./enums";

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((value) => `'${value}'`).join(", ")})`);

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

// Auth.js (drizzle adapter) tables: users and accounts. Sessions are JWTs, so no sessions table.
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name"),
    email: text("email").notNull(),
    emailVerified: timestamp("email_verified", { withTimezone: true, mode: "date" }),
    image: text("image"),
    role: text("role").$type<UserRole>().notNull().default("member"),
    passwordHash: text("password_hash"),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("users_email_key").on(sql`lower(${table.email})`),
    check("users_role_check", inList("role", userRoles)),
  ],
);

export const passwordLinkPurposes = ["invite", "reset"] as const;
export type PasswordLinkPurpose = (typeof passwordLinkPurposes)[number];

// One-time set-password links an admin hands on (Hangar sends no mail). Only the SHA-256 of the
// token is stored, so a database reader can't use a pending link.
export const passwordLinks = pgTable(
  "password_links",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    purpose: text("purpose").$type<PasswordLinkPurpose>().notNull(),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    uniqueIndex("password_links_token_hash_key").on(table.tokenHash),
    index("password_links_user_idx").on(table.userId),
    check("password_links_purpose_check", inList("purpose", passwordLinkPurposes)),
  ],
);

export const accounts = pgTable(
  "accounts",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (table) => [primaryKey({ columns: [table.provider, table.providerAccountId] }), index("accounts_user_idx").on(table.userId)],
);

export const projects = pgTable(
  "projects",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    quotaBytes: bigint("quota_bytes", { mode: "number" }).notNull().default(100 * 1024 ** 3),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("projects_slug_key").on(table.slug)],
);

export const projectMembers = pgTable(
  "project_members",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role").$type<ProjectRole>().notNull().default("member"),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.projectId, table.userId] }),
    index("project_members_user_idx").on(table.userId),
    check("project_members_role_check", inList("role", projectRoles)),
  ],
);

/** People invited by email before they have an account; they join when they first sign in. */
export const projectInvitations = pgTable(
  "project_invitations",
  {
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    /** Lower-cased. */
    email: text("email").notNull(),
    role: text("role").$type<ProjectRole>().notNull().default("member"),
    invitedById: uuid("invited_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.projectId, table.email] }),
    index("project_invitations_email_idx").on(table.email),
    check("project_invitations_role_check", inList("role", projectRoles)),
  ],
);

export const blobs = pgTable("blobs", {
  sha256: text("sha256").primaryKey(),
  sha512: text("sha512").notNull(),
  size: bigint("size", { mode: "number" }).notNull(),
  createdAt: createdAt(),
});

export const images = pgTable(
  "images",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    os: text("os").notNull(),
    osVersion: text("os_version").notNull().default(""),
    arch: text("arch").$type<Architecture>().notNull().default("x86_64"),
    visibility: text("visibility").$type<Visibility>().notNull().default("private"),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    properties: jsonb("properties").$type<Record<string, string>>().notNull().default({}),
    latestVersionId: uuid("latest_version_id"),
    latestVersion: text("latest_version"),
    latestFormat: text("latest_format").$type<DiskFormat>(),
    latestVirtualSize: bigint("latest_virtual_size", { mode: "number" }).notNull().default(0),
    latestReleaseStatus: text("latest_release_status").$type<ReleaseStatus>(),
    versionCount: integer("version_count").notNull().default(0),
    /** The same facts for released versions only: what people outside the project see. */
    releasedVersionId: uuid("released_version_id"),
    releasedVersion: text("released_version"),
    releasedFormat: text("released_format").$type<DiskFormat>(),
    releasedVirtualSize: bigint("released_virtual_size", { mode: "number" }).notNull().default(0),
    releasedReleaseStatus: text("released_release_status").$type<ReleaseStatus>(),
    releasedCount: integer("released_count").notNull().default(0),
    /** Clones and builds that used any of its versions: the catalog's "most used" order. */
    usageCount: integer("usage_count").notNull().default(0),
    /** Searched with hangar_search_query(q): both tokenize with hangar_search_words (migration 0007). */
    search: tsvector("search").generatedAlwaysAs(
      sql`hangar_search_document(name, slug, os, os_version, tags, description)`,
    ),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("images_slug_key").on(table.slug),
    index("images_search_idx").using("gin", table.search),
    index("images_tags_idx").using("gin", table.tags),
    index("images_name_idx").on(table.name, table.id),
    index("images_updated_idx").on(table.updatedAt, table.id),
    index("images_size_idx").on(table.latestVirtualSize, table.id),
    index("images_usage_idx").on(table.usageCount, table.id),
    index("images_project_idx").on(table.projectId),
    index("images_os_idx").on(table.os, table.osVersion),
    index("images_arch_idx").on(table.arch),
    index("images_release_idx").on(table.latestReleaseStatus),
    check("images_visibility_check", inList("visibility", visibilities)),
    check("images_arch_check", inList("arch", architectures)),
  ],
);

export const imageVersions = pgTable(
  "image_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    version: text("version").notNull(),
    format: text("format").$type<DiskFormat>(),
    virtualSize: bigint("virtual_size", { mode: "number" }),
    fileSize: bigint("file_size", { mode: "number" }),
    sha256: text("sha256").references(() => blobs.sha256),
    sha512: text("sha512"),
    originalFilename: text("original_filename"),
    dataStatus: text("data_status").$type<DataStatus>().notNull().default("queued"),
    failureReason: text("failure_reason"),
    releaseStatus: text("release_status").$type<ReleaseStatus>().notNull().default("draft"),
    source: text("source").$type<VersionSource>().notNull(),
    sourceUrl: text("source_url"),
    parentVersionId: uuid("parent_version_id"),
    /** For built versions: the recipe revision and build that produced it. */
    recipeRevisionId: uuid("recipe_revision_id"),
    buildId: uuid("build_id"),
    /** Deprecated, disabled and revoked versions may name what to use instead. */
    replacementVersionId: uuid("replacement_version_id"),
    /** Set on every descendant when an ancestor is revoked: the revoked ancestor. */
    revokedAncestorId: uuid("revoked_ancestor_id"),
    /** A linked clone is a qcow2 overlay whose backing file is this version's blob. */
    backingVersionId: uuid("backing_version_id"),
    inspection: jsonb("inspection").$type<Record<string, unknown>>(),
    bytesReceived: bigint("bytes_received", { mode: "number" }).notNull().default(0),
    bytesTotal: bigint("bytes_total", { mode: "number" }),
    notes: text("notes").notNull().default(""),
    createdById: uuid("created_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("image_versions_image_version_key").on(table.imageId, table.version),
    index("image_versions_image_idx").on(table.imageId, table.createdAt),
    index("image_versions_created_idx").on(table.createdAt, table.id),
    index("image_versions_size_idx").on(sql`coalesce(${table.virtualSize}, 0)`, table.id),
    index("image_versions_parent_idx").on(table.parentVersionId),
    index("image_versions_backing_idx").on(table.backingVersionId),
    index("image_versions_sha256_idx").on(table.sha256),
    uniqueIndex("image_versions_build_key").on(table.buildId),
    check("image_versions_data_status_check", inList("data_status", dataStatuses)),
    check("image_versions_release_status_check", inList("release_status", releaseStatuses)),
    check("image_versions_source_check", inList("source", versionSources)),
    check("image_versions_ready_has_blob", sql`data_status <> 'ready' or (sha256 is not null and format is not null)`),
  ],
);

// Which image holds which tag: a copy of images.tags that a trigger keeps (migration 0010). Its
// btree on (tag, image_id) lets "does an image this viewer sees hold this tag" stop at the first
// visible holder, where the tags GIN index would first collect every holder.
export const imageTags = pgTable(
  "image_tags",
  {
    tag: text("tag").notNull(),
    imageId: uuid("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
  },
  (table) => [primaryKey({ columns: [table.tag, table.imageId] })],
);

// A dictionary of every tag ever used, for autocomplete; an image's tags live on the image row.
export const tags = pgTable("tags", {
  name: text("name").primaryKey(),
  createdAt: createdAt(),
});

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    action: text("action").notNull(),
    objectType: text("object_type").notNull(),
    objectId: text("object_id").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
  },
  (table) => [index("audit_events_at_idx").on(table.at), index("audit_events_object_idx").on(table.objectType, table.objectId)],
);

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
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (table) => [
    index("uploads_user_idx").on(table.userId),
    index("uploads_version_idx").on(table.versionId),
    index("uploads_active_project_idx").on(table.projectId).where(sql`status = 'active'`),
    check("uploads_status_check", inList("status", uploadStatuses)),
  ],
);

export const conversionStatuses = ["queued", "running", "succeeded", "failed"] as const;
export type ConversionStatus = (typeof conversionStatuses)[number];

// A converted download is cached as its own blob, once per (version, target format).
export const conversions = pgTable(
  "conversions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    targetFormat: text("target_format").$type<DiskFormat>().notNull(),
    status: text("status").$type<ConversionStatus>().notNull().default("queued"),
    progress: integer("progress").notNull().default(0),
    sha256: text("sha256").references(() => blobs.sha256),
    fileSize: bigint("file_size", { mode: "number" }),
    failureReason: text("failure_reason"),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("conversions_version_format_key").on(table.versionId, table.targetFormat),
    check("conversions_status_check", inList("status", conversionStatuses)),
  ],
);

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
    document: jsonb("document").$type<Record<string, unknown>>().notNull(),
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
    steps: jsonb("steps").$type<{ label: string; status: "pending" | "running" | "done" | "failed" }[]>().notNull().default([]),
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
    index("builds_fingerprint_idx").on(table.fingerprint).where(sql`status = 'succeeded'`),
    index("builds_running_idx").on(table.heartbeatAt).where(sql`status = 'running'`),
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

// ── Governance ───────────────────────────────────────────────────────────────────────────────

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
  (table) => [index("reviews_version_idx").on(table.versionId), check("reviews_decision_check", inList("decision", reviewDecisions))],
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
  (table) => [index("scheduled_releases_due_idx").on(table.runAt).where(sql`applied_at is null`)],
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

// ── Teams: sharing and clones ────────────────────────────────────────────────────────────────

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

export const cloneModes = ["linked", "full"] as const;
export type CloneMode = (typeof cloneModes)[number];
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
    resetOperations: text("reset_operations").array().notNull().default(sql`'{}'::text[]`),
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

export const signInThrottleScopes = ["account", "address"] as const;
export type SignInThrottleScope = (typeof signInThrottleScopes)[number];

/**
 * Failed password sign-ins, counted per account (the email tried, whether or not it has an
 * account, so a lock says nothing about existence) and per client address. Kept in PostgreSQL so
 * every Hangar process sees the same counters; lib/auth/sign-in-guard.ts owns the policy.
 */
export const signInThrottles = pgTable(
  "sign_in_throttles",
  {
    scope: text("scope").$type<SignInThrottleScope>().notNull(),
    /** The lower-cased email for `account`, the address for `address`. */
    key: text("key").notNull(),
    failures: integer("failures").notNull(),
    /** Start of the counting window: failures older than the policy's window start a new count. */
    windowStartedAt: timestamp("window_started_at", { withTimezone: true, mode: "date" }).notNull(),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true, mode: "date" }).notNull(),
    lastAddress: text("last_address"),
    lockedUntil: timestamp("locked_until", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    primaryKey({ columns: [table.scope, table.key] }),
    index("sign_in_throttles_locked_idx").on(table.scope, table.lockedUntil),
    check("sign_in_throttles_scope_check", inList("scope", signInThrottleScopes)),
  ],
);
