import os from "node:os";
import path from "node:path";
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_ISSUER } from "./oidc-provider";

export const APP_PORT = Number(process.env.E2E_PORT ?? 3210);
export const APP_ORIGIN = `http://127.0.0.1:${APP_PORT}`;
export const ADMIN_EMAIL = "admin@hangar.local";
export const ADMIN_PASSWORD = "e2e-admin-password-123";
export const E2E_DATA_DIR = process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), "hangar-e2e");
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
