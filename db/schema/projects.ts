// Projects, their members and pending invitations.
import { bigint, check, index, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { projectRoles } from "../enums";
import type { ProjectRole } from "../enums";
import { createdAt, inList } from "./columns";
import { users } from "./auth";

export const projects = pgTable(
  "projects",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    quotaBytes: bigint("quota_bytes", { mode: "number" })
      .notNull()
      .default(100 * 1024 ** 3),
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
