import path from "node:path";
import { describe, expect, it } from "vitest";
import { readEnv } from "./env";

describe("readEnv", () => {
  it("applies the documented defaults", () => {
    const env = readEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.dataDir).toBe(path.resolve(".hangar"));
    expect(env.HANGAR_ADMIN_EMAIL).toBe("admin@hangar.local");
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.HANGAR_ADMIN_PASSWORD).toBeUndefined();
    expect(env.oidcEnabled).toBe(false);
  });

  it("names every invalid variable and says where the settings are documented", () => {
    expect(() => readEnv({ PORT: "http", DATABASE_URL: "mysql://x", HANGAR_ADMIN_PASSWORD: "short" })).toThrow(
      /PORT[\s\S]*DATABASE_URL must start with postgres[\s\S]*HANGAR_ADMIN_PASSWORD must be at least 12[\s\S]*/,
    );
    expect(() => readEnv({})).not.toThrow();
    expect(() => readEnv({ PORT: "1" })).not.toThrow();
    expect(() => readEnv({ PORT: "70000" })).toThrow(/\.env\.example/);
  });

  it("treats empty values as unset", () => {
    expect(readEnv({ DATABASE_URL: "", HANGAR_ADMIN_PASSWORD: "" })).toMatchObject({ DATABASE_URL: undefined, HANGAR_ADMIN_PASSWORD: undefined });
  });

  it("enables OIDC only when issuer, client id and secret are all set", () => {
    const full = { HANGAR_OIDC_ISSUER: "https://id.example.org", HANGAR_OIDC_CLIENT_ID: "hangar", HANGAR_OIDC_CLIENT_SECRET: "s3cret" };
    expect(readEnv(full).oidcEnabled).toBe(true);
    expect(() => readEnv({ HANGAR_OIDC_ISSUER: full.HANGAR_OIDC_ISSUER })).toThrow(/all three/);
    expect(readEnv({ ...full, HANGAR_OIDC_ADMIN_EMAILS: " Ops@Example.org , ,b@x.io" }).HANGAR_OIDC_ADMIN_EMAILS).toEqual([
      "ops@example.org",
      "b@x.io",
    ]);
  });

  it("reads job time limits as durations and the acceleration as auto, kvm or tcg", () => {
    expect(readEnv({})).toMatchObject({ HANGAR_BUILD_TIMEOUT: 30 * 60_000, HANGAR_JOB_TIMEOUT: 2 * 3600_000, HANGAR_ACCEL: "auto" });
    expect(readEnv({ HANGAR_BUILD_TIMEOUT: "45m", HANGAR_JOB_TIMEOUT: "90", HANGAR_ACCEL: "tcg" })).toMatchObject({ HANGAR_BUILD_TIMEOUT: 45 * 60_000, HANGAR_JOB_TIMEOUT: 90_000, HANGAR_ACCEL: "tcg" });
    expect(readEnv({ HANGAR_BUILD_TIMEOUT: "2h", HANGAR_JOB_TIMEOUT: "" })).toMatchObject({ HANGAR_BUILD_TIMEOUT: 2 * 3600_000, HANGAR_JOB_TIMEOUT: 2 * 3600_000 });
    expect(() => readEnv({ HANGAR_BUILD_TIMEOUT: "30 minutes" })).toThrow(/HANGAR_BUILD_TIMEOUT must be a duration between 1s and 12h, such as 1800, 90s, 30m or 2h \(got "30 minutes"\)/);
    expect(() => readEnv({ HANGAR_JOB_TIMEOUT: "13h" })).toThrow(/HANGAR_JOB_TIMEOUT must be a duration/);
    expect(() => readEnv({ HANGAR_BUILD_TIMEOUT: "0" })).toThrow(/HANGAR_BUILD_TIMEOUT/);
    expect(() => readEnv({ HANGAR_ACCEL: "hvf" })).toThrow(/HANGAR_ACCEL must be auto, kvm or tcg/);
  });
});
