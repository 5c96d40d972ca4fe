// Auth.js's own reads and writes of users and OIDC accounts, on our tables and pool.
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import type { Adapter } from "@auth/core/adapters";
import { db } from "./client";
import { accounts, users } from "./schema";

export function authAdapter(): Adapter {
  // The adapter's column types are narrower than ours (uuid ids, extra columns); the shapes match.
  return DrizzleAdapter(db(), { usersTable: users as never, accountsTable: accounts as never });
}
