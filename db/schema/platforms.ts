// Platforms: feed URLs that OpenNebula, LXD/Incus (simplestreams), Glance, Proxmox, KubeVirt and
// Terraform read without credentials, and the per-version metadata tarballs LXD and Incus need.
// Whether an image is offered at all, on which channels and with which VM template, lives on the
// image (images.published, published_channels, vm_template).
import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  customType,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { feedKinds, platformArtifactKinds } from "../enums";
import type { FeedKind, PlatformArtifactKind } from "../enums";
import { createdAt, inList } from "./columns";
import { users } from "./auth";
import { projects } from "./projects";
import { imageVersions } from "./images";

const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });

/**
 * A feed lists the published images its scope may see, read as its creator (narrowed to the project
 * when project_id is set, read-only), so a creator's lost rights shrink the feed at once. A `token`
 * feed is reached at /feeds/<secret>/; only the sha256 of the secret is kept. The one `public` feed
 * (an admin's switch) lists public images to anyone at /feeds/public/.
 */
export const feeds = pgTable(
  "feeds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: text("kind").$type<FeedKind>().notNull().default("token"),
    name: text("name").notNull(),
    prefix: text("prefix"),
    secretHash: text("secret_hash"),
    projectId: uuid("project_id").references(() => projects.id, { onDelete: "cascade" }),
    createdById: uuid("created_by_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    lastUsedAddress: text("last_used_address"),
    useCount: bigint("use_count", { mode: "number" }).notNull().default(0),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    revokedById: uuid("revoked_by_id").references(() => users.id, { onDelete: "set null" }),
  },
  (table) => [
    uniqueIndex("feeds_secret_hash_key").on(table.secretHash),
    uniqueIndex("feeds_one_public_key")
      .on(table.kind)
      .where(sql`kind = 'public' and revoked_at is null`),
    index("feeds_project_idx").on(table.projectId, table.createdAt),
    check("feeds_kind_check", inList("kind", feedKinds)),
    check("feeds_secret_check", sql`(kind = 'token') = (secret_hash is not null)`),
  ],
);

/**
 * The `lxd.tar.xz` / `incus.tar.xz` metadata tarball of a version (a few hundred bytes, made from
 * the version's facts) and simplestreams' combined fingerprint: the sha256 of the tarball followed
 * by the disk file. Made in the background once a version is approved and its image published.
 */
export const platformArtifacts = pgTable(
  "platform_artifacts",
  {
    versionId: uuid("version_id")
      .notNull()
      .references(() => imageVersions.id, { onDelete: "cascade" }),
    kind: text("kind").$type<PlatformArtifactKind>().notNull(),
    content: bytea("content").notNull(),
    sha256: text("sha256").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    combinedSha256: text("combined_sha256").notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.versionId, table.kind] }),
    check("platform_artifacts_kind_check", inList("kind", platformArtifactKinds)),
  ],
);
