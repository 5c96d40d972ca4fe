// What is inside an image, read from its bytes: a content scan per blob (identical bytes are read
// once), the packages it found in their own indexed table (package search is one index range
// scan), diffs between two versions, and boot tests. Scans, diffs and boot tests are jobs: they
// share the columns a worker needs to claim, heartbeat, be cancelled and be swept after it dies.
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { contentJobStatuses, bootTestResults, packageSchemes } from "../enums";
import type { BootTestResult, ContentJobStatus, PackageScheme } from "../enums";
import type { ContentFilesystem, FileDiff } from "../../lib/content/types";
import { inList } from "./columns";
import { users } from "./auth";
import { blobs, imageVersions } from "./images";

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/** Claim, heartbeat, cancel and sweep: what every content job row carries. */
const jobColumns = () => ({
  status: text("status").$type<ContentJobStatus>().notNull().default("queued"),
  failureReason: text("failure_reason"),
  workerHost: text("worker_host"),
  workerPid: integer("worker_pid"),
  processGroup: integer("process_group"),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "date" }),
  cancelRequestedAt: timestamp("cancel_requested_at", { withTimezone: true, mode: "date" }),
  queuedAt: timestamp("queued_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
  finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
});

/**
 * One scan per blob: the facts libguestfs read out of it. A linked clone's blob is its overlay, so
 * its scan (read through the backing chain) is its own. `osFound` false with `noOsReason` is a
 * data disk or an image with nothing to detect, said plainly; a failed scan keeps its reason.
 */
export const contentScans = pgTable(
  "content_scans",
  {
    sha256: text("sha256")
      .primaryKey()
      .references(() => blobs.sha256, { onDelete: "cascade" }),
    ...jobColumns(),
    osFound: boolean("os_found"),
    noOsReason: text("no_os_reason"),
    osType: text("os_type"),
    distro: text("distro"),
    productName: text("product_name"),
    osVersion: text("os_version"),
    arch: text("arch"),
    hostname: text("hostname"),
    packageFormat: text("package_format"),
    packageManager: text("package_manager"),
    initSystem: text("init_system"),
    kernels: text("kernels")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    filesystems: jsonb("filesystems").$type<ContentFilesystem[]>().notNull().default([]),
    loginUsers: text("login_users")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    enabledServices: text("enabled_services")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    packageCount: integer("package_count").notNull().default(0),
    /** Milliseconds the job took from claim to stored results. */
    durationMs: integer("duration_ms"),
  },
  (table) => [
    index("content_scans_status_idx").on(table.status),
    index("content_scans_distro_idx").on(table.distro, table.arch),
    check("content_scans_status_check", inList("status", contentJobStatuses)),
  ],
);

/**
 * Installed packages of one scanned blob. `sortKey` encodes (epoch, version, release) so that byte
 * order is the package manager's own ordering (lib/content/package-versions.ts): "openssl < 3.0.14"
 * is an index range over (name, scheme, sort_key).
 */
export const contentPackages = pgTable(
  "content_packages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    scanSha256: text("scan_sha256")
      .notNull()
      .references(() => contentScans.sha256, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The full version as the package manager prints it (epoch:version-release). */
    version: text("version").notNull(),
    epoch: integer("epoch").notNull().default(0),
    upstreamVersion: text("upstream_version").notNull(),
    release: text("release").notNull().default(""),
    arch: text("arch").notNull().default(""),
    scheme: text("scheme").$type<PackageScheme>().notNull(),
    sortKey: bytea("sort_key").notNull(),
  },
  (table) => [
    index("content_packages_scan_idx").on(table.scanSha256, table.name),
    index("content_packages_search_idx").on(table.name, table.scheme, table.sortKey, table.scanSha256),
    check("content_packages_scheme_check", inList("scheme", packageSchemes)),
  ],
);

/** A file-level diff of two versions' bytes (the package diff is computed from stored lists). */
export const versionDiffs = pgTable(
  "version_diffs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    fromVersionId: uuid("from_version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    toVersionId: uuid("to_version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    ...jobColumns(),
    files: jsonb("files").$type<FileDiff[]>(),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
  },
  (table) => [
    index("version_diffs_pair_idx").on(table.fromVersionId, table.toVersionId, table.queuedAt),
    check("version_diffs_status_check", inList("status", contentJobStatuses)),
  ],
);

/** A boot of a version in a throwaway VM: its outcome, how long it took, its console. */
export const bootTests = pgTable(
  "boot_tests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    ...jobColumns(),
    /** passed / failed / timed_out / not_bootable once it ended (status succeeded means it ran to a verdict). */
    result: text("result").$type<BootTestResult>(),
    /** What counted as success: the default login prompt or the image's marker. */
    successPattern: text("success_pattern").notNull(),
    timeoutSeconds: integer("timeout_seconds").notNull(),
    acceleration: text("acceleration").$type<"kvm" | "tcg">(),
    durationMs: integer("duration_ms"),
    /** Bytes of console output kept (the log is capped); more were dropped when it is at the cap. */
    consoleBytes: bigint("console_bytes", { mode: "number" }).notNull().default(0),
    trigger: text("trigger").notNull().default("manual"),
    requestedById: uuid("requested_by_id").references(() => users.id, { onDelete: "set null" }),
  },
  (table) => [
    index("boot_tests_version_idx").on(table.versionId, table.queuedAt),
    index("boot_tests_running_idx")
      .on(table.heartbeatAt)
      .where(sql`status = 'running'`),
    check("boot_tests_status_check", inList("status", contentJobStatuses)),
    check("boot_tests_result_check", sql`result is null or ${inList("result", bootTestResults)}`),
  ],
);

export const bootTestLogs = pgTable(
  "boot_test_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    bootTestId: uuid("boot_test_id")
      .notNull()
      .references(() => bootTests.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    line: text("line").notNull(),
  },
  (table) => [index("boot_test_logs_test_idx").on(table.bootTestId, table.id)],
);

export type ContentScanRow = typeof contentScans.$inferSelect;
export type ContentPackageRow = typeof contentPackages.$inferSelect;
export type BootTestRow = typeof bootTests.$inferSelect;
export type VersionDiffRow = typeof versionDiffs.$inferSelect;
export type { ContentJobStatus, BootTestResult, PackageScheme };
