import path from "node:path";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { env, envVariables, readEnv } from "./env";

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

  it("derives the one origin every URL starts with from AUTH_URL, else localhost and the port", () => {
    expect(readEnv({}).origin).toBe("http://localhost:3000");
    expect(readEnv({ PORT: "4100" }).origin).toBe("http://localhost:4100");
    expect(readEnv({ AUTH_URL: "http://127.0.0.1:4100/" }).origin).toBe("http://127.0.0.1:4100");
    expect(readEnv({ AUTH_URL: "https://hangar.example.org/some/path" }).origin).toBe("https://hangar.example.org");
    expect(() => readEnv({ AUTH_URL: "hangar.example.org" })).toThrow(/AUTH_URL must be a URL/);
    expect(() => readEnv({ AUTH_URL: "ftp://hangar.example.org" })).toThrow(/AUTH_URL must start with http/);
    expect(readEnv({}).HANGAR_PASSWORD_LINK_HOURS).toBe(72);
    expect(() => readEnv({ HANGAR_PASSWORD_LINK_HOURS: "0" })).toThrow(/HANGAR_PASSWORD_LINK_HOURS is at least 1/);
  });

  it("treats empty values as unset", () => {
    expect(readEnv({ DATABASE_URL: "", HANGAR_ADMIN_PASSWORD: "" })).toMatchObject({
      DATABASE_URL: undefined,
      HANGAR_ADMIN_PASSWORD: undefined,
    });
  });

  it("enables OIDC only when issuer, client id and secret are all set", () => {
    const full = {
      HANGAR_OIDC_ISSUER: "https://id.example.org",
      HANGAR_OIDC_CLIENT_ID: "hangar",
      HANGAR_OIDC_CLIENT_SECRET: "s3cret",
    };
    expect(readEnv(full).oidcEnabled).toBe(true);
    expect(() => readEnv({ HANGAR_OIDC_ISSUER: full.HANGAR_OIDC_ISSUER })).toThrow(/all three/);
    expect(
      readEnv({ ...full, HANGAR_OIDC_ADMIN_EMAILS: " Ops@Example.org , ,b@x.io" }).HANGAR_OIDC_ADMIN_EMAILS,
    ).toEqual(["ops@example.org", "b@x.io"]);
  });

  it("reads the grow-to bound as a size, 256 GiB unless set, and refuses what is not one", () => {
    expect(readEnv({}).HANGAR_MAX_GROW_SIZE).toBe(256 * 1024 ** 3);
    expect(readEnv({ HANGAR_MAX_GROW_SIZE: "2T" }).HANGAR_MAX_GROW_SIZE).toBe(2 * 1024 ** 4);
    expect(readEnv({ HANGAR_MAX_GROW_SIZE: "1073741824" }).HANGAR_MAX_GROW_SIZE).toBe(1024 ** 3);
    expect(() => readEnv({ HANGAR_MAX_GROW_SIZE: "lots" })).toThrow(/HANGAR_MAX_GROW_SIZE is a size/);
    expect(() => readEnv({ HANGAR_MAX_GROW_SIZE: "10K" })).toThrow(/HANGAR_MAX_GROW_SIZE is a size of at least 1M/);
  });

  it("reads HANGAR_MAX_VIRTUAL_SIZE as bytes or with a binary suffix, 2 TiB by default", () => {
    expect(readEnv({}).HANGAR_MAX_VIRTUAL_SIZE).toBe(2 * 1024 ** 4);
    expect(readEnv({ HANGAR_MAX_VIRTUAL_SIZE: "512G" }).HANGAR_MAX_VIRTUAL_SIZE).toBe(512 * 1024 ** 3);
    expect(readEnv({ HANGAR_MAX_VIRTUAL_SIZE: "4TiB" }).HANGAR_MAX_VIRTUAL_SIZE).toBe(4 * 1024 ** 4);
    expect(readEnv({ HANGAR_MAX_VIRTUAL_SIZE: "1.5t" }).HANGAR_MAX_VIRTUAL_SIZE).toBe(1.5 * 1024 ** 4);
    expect(readEnv({ HANGAR_MAX_VIRTUAL_SIZE: " 1099511627776 " }).HANGAR_MAX_VIRTUAL_SIZE).toBe(1024 ** 4);
    for (const bad of ["lots", "-1T", "0", "2X", "1e3", "100000P"]) {
      expect(() => readEnv({ HANGAR_MAX_VIRTUAL_SIZE: bad }), bad).toThrow(
        /HANGAR_MAX_VIRTUAL_SIZE: “.*” is not a byte size; write bytes \(2199023255552\) or a number with K, M, G, T or P/,
      );
    }
  });

  it("reads job time limits as durations and the acceleration as auto, kvm or tcg", () => {
    expect(readEnv({})).toMatchObject({
      HANGAR_BUILD_TIMEOUT: 30 * 60_000,
      HANGAR_JOB_TIMEOUT: 2 * 3600_000,
      HANGAR_ACCEL: "auto",
    });
    expect(readEnv({ HANGAR_BUILD_TIMEOUT: "45m", HANGAR_JOB_TIMEOUT: "90", HANGAR_ACCEL: "tcg" })).toMatchObject({
      HANGAR_BUILD_TIMEOUT: 45 * 60_000,
      HANGAR_JOB_TIMEOUT: 90_000,
      HANGAR_ACCEL: "tcg",
    });
    expect(readEnv({ HANGAR_BUILD_TIMEOUT: "2h", HANGAR_JOB_TIMEOUT: "" })).toMatchObject({
      HANGAR_BUILD_TIMEOUT: 2 * 3600_000,
      HANGAR_JOB_TIMEOUT: 2 * 3600_000,
    });
    expect(() => readEnv({ HANGAR_BUILD_TIMEOUT: "30 minutes" })).toThrow(
      /HANGAR_BUILD_TIMEOUT must be a duration between 1s and 12h, such as 1800, 90s, 30m or 2h \(got "30 minutes"\)/,
    );
    expect(() => readEnv({ HANGAR_JOB_TIMEOUT: "13h" })).toThrow(/HANGAR_JOB_TIMEOUT must be a duration/);
    expect(() => readEnv({ HANGAR_BUILD_TIMEOUT: "0" })).toThrow(/HANGAR_BUILD_TIMEOUT/);
    expect(() => readEnv({ HANGAR_ACCEL: "hvf" })).toThrow(/HANGAR_ACCEL must be auto, kvm or tcg/);
  });
});

describe("the configuration's documentation", () => {
  const root = path.resolve(__dirname, "..");
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const configuration = readme.slice(
    readme.indexOf("## Configuration"),
    readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1),
  );
  const example = readFileSync(path.join(root, ".env.example"), "utf8");

  it("lists every variable of the schema in .env.example", () => {
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect(envVariables.filter((name) => !listed.has(name))).toEqual([]);
  });

  it("describes every variable of the schema in the README's configuration section", () => {
    expect(envVariables.filter((name) => !configuration.includes(`\`${name}\``))).toEqual([]);
  });
});

describe("env()", () => {
  const saved = process.env.HANGAR_DB_POOL_MAX;
  afterEach(() => {
    if (saved === undefined) delete process.env.HANGAR_DB_POOL_MAX;
    else process.env.HANGAR_DB_POOL_MAX = saved;
  });

  it("reflects a variable changed at run time, and parses once otherwise", () => {
    process.env.HANGAR_DB_POOL_MAX = "7";
    const first = env();
    expect(first.HANGAR_DB_POOL_MAX).toBe(7);
    expect(env()).toBe(first);
    process.env.HANGAR_DB_POOL_MAX = "9";
    expect(env().HANGAR_DB_POOL_MAX).toBe(9);
  });

  it("takes the variables that used to be read around the schema", () => {
    expect(readEnv({}).HANGAR_PG_PORT).toBeUndefined();
    expect(readEnv({})).toMatchObject({
      HANGAR_DB_POOL_MAX: 10,
      HANGAR_VIRT_CUSTOMIZE: "virt-customize",
      HANGAR_VIRT_SYSPREP: "virt-sysprep",
      HANGAR_URL_IMPORT_PORTS: [],
      HANGAR_URL_IMPORT_ALLOW_ADDRESSES: [],
      LIBGUESTFS_BACKEND: "direct",
    });
    expect(
      readEnv({
        HANGAR_PG_PORT: "5433",
        HANGAR_URL_IMPORT_PORTS: "8080, x,70000",
        HANGAR_URL_IMPORT_ALLOW_ADDRESSES: " 10.0.0.5 ,,",
      }),
    ).toMatchObject({
      HANGAR_PG_PORT: 5433,
      HANGAR_URL_IMPORT_PORTS: [8080],
      HANGAR_URL_IMPORT_ALLOW_ADDRESSES: ["10.0.0.5"],
    });
    expect(() => readEnv({ HANGAR_PG_PORT: "postgres" })).toThrow(/HANGAR_PG_PORT/);
    expect(() => readEnv({ HANGAR_DB_POOL_MAX: "0" })).toThrow(/HANGAR_DB_POOL_MAX is at least 1/);
  });
});
