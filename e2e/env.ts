import os from "node:os";
import path from "node:path";
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ISSUER } from "./oidc-provider";

export const APP_PORT = Number(process.env.E2E_PORT ?? 3210);
export const APP_ORIGIN = `http://127.0.0.1:${APP_PORT}`;
export const ADMIN_EMAIL = "admin@hangar.local";
export const ADMIN_PASSWORD = "e2e-admin-password-123";
// E2E_BLOB_STORE=s3 runs the app on a bucket in a Swift that e2e/start-app.ts starts and stops;
// its default data folder differs, so a local run and an s3 run share nothing.
export const E2E_BLOB_STORE = process.env.E2E_BLOB_STORE === "s3" ? "s3" : "local";
export const E2E_DATA_DIR =
  process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), E2E_BLOB_STORE === "s3" ? "hangar-e2e-s3" : "hangar-e2e");
/** Swift's configuration, objects and logs, beside the data folder (not in it: the app owns that). */
export const E2E_SWIFT_DIR = `${E2E_DATA_DIR}-swift`;
export const E2E_PG_PORT = APP_PORT + 2;

export const appEnv: Record<string, string> = {
  PORT: String(APP_PORT),
  HANGAR_DATA_DIR: E2E_DATA_DIR,
  HANGAR_PG_PORT: String(E2E_PG_PORT),
  HANGAR_ADMIN_EMAIL: ADMIN_EMAIL,
  HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD,
  HANGAR_OIDC_ISSUER: OIDC_ISSUER,
  HANGAR_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
  HANGAR_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
  HANGAR_OIDC_NAME: "Test SSO",
  // A second admin who signs in through SSO, so reviews can follow the four-eyes rule.
  HANGAR_OIDC_ADMIN_EMAILS: "reviewer@oidc.test",
  AUTH_URL: APP_ORIGIN,
};
