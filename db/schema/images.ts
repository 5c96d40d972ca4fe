// Images are families, versions are immutable files, blobs are content-addressed bytes. Status
// lives on separate axes (data, release) and never in one column. The `images.latest_*` columns are a
// denormalised copy of the newest version so the catalog can page through a hundred thousand images
// by keyset without a join per row. Converted downloads are cached as their own blobs.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
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
import { visibilities, architectures, dataStatuses, releaseStatuses, versionSources } from "../enums";
import { defaultVmTemplate } from "../enums";
import type {
  Visibility,
  DiskFormat,
  Architecture,
  DataStatus,
  ReleaseStatus,
  VersionSource,
  VmTemplate,
} from "../enums";
import { createdAt, inList, tsvector } from "./columns";
import { users } from "./auth";
import { projects } from "./projects";
import type { StoredInspection } from "../../lib/images/inspector/types";

export const blobs = pgTable("blobs", {
  sha256: text("sha256").primaryKey(),
  /** Known once hashed: an upload's at once, a conversion's or a flattened clone's shortly after. */
  sha512: text("sha512"),
  /** For OpenNebula and simplestreams' Glance sync; computed in the background after the blob lands. */
  md5: text("md5"),
  size: bigint("size", { mode: "number" }).notNull(),
  /**
   * In a bucket, the key (under HANGAR_S3_PREFIX) holding the bytes when it is not the sha256: an
   * upload's `uploads/<id>`, completed in place rather than copied. Null: `<sha256>`.
   */
  objectKey: text("object_key"),
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
    tags: text("tags")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
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
    /** Approval needs a passing boot test of the version (an owner/admin setting). */
    bootTestRequired: boolean("boot_test_required").notNull().default(false),
    /** A line the image prints when it is up; null means a login prompt on the serial console. */
    bootSuccessMarker: text("boot_success_marker"),
    /** Clones and builds that used any of its versions: the catalog's "most used" order. */
    usageCount: integer("usage_count").notNull().default(0),
    /** Offered to platforms through feeds (owners and admins), on these channels, with this VM template. */
    published: boolean("published").notNull().default(false),
    publishedChannels: text("published_channels")
      .array()
      .notNull()
      .default(sql`'{latest}'::text[]`),
    vmTemplate: jsonb("vm_template").$type<VmTemplate>().notNull().default(defaultVmTemplate),
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
    inspection: jsonb("inspection").$type<StoredInspection>(),
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
    /** The process running this conversion (db/schema/processes.ts). */
    processId: uuid("process_id"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("conversions_version_format_key").on(table.versionId, table.targetFormat),
    check("conversions_status_check", inList("status", conversionStatuses)),
  ],
);
