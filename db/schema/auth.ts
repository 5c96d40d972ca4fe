// Accounts and sign-in: Auth.js (drizzle adapter) tables, one-time password links, sign-in throttles.
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { userRoles } from "../enums";
import type { UserRole } from "../enums";
import { createdAt, inList } from "./columns";

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
  (table) => [
    primaryKey({ columns: [table.provider, table.providerAccountId] }),
    index("accounts_user_idx").on(table.userId),
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

// Secrets every web process must share, made once by whichever process starts first (AUTH_SECRET
// when it is not set: a session signed by one process is read by any other, on any machine).
export const instanceSecrets = pgTable("instance_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: createdAt(),
});
