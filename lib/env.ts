// Configuration comes only from the environment, validated once so a typo fails at start with a
// message instead of surfacing later as a confusing runtime error.
import path from "node:path";
import { z } from "zod";

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const envSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HANGAR_DATA_DIR: z.string().trim().min(1).default(".hangar"),
  DATABASE_URL: optionalString.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, "DATABASE_URL must start with postgres:// or postgresql://").optional(),
  ),
  HANGAR_ADMIN_EMAIL: z.string().trim().toLowerCase().email().default("admin@hangar.local"),
  HANGAR_ADMIN_PASSWORD: optionalString.pipe(
    z.string().min(12, "HANGAR_ADMIN_PASSWORD must be at least 12 characters").optional(),
  ),
  AUTH_SECRET: optionalString,
  AUTH_SESSION_MAX_AGE: z.coerce.number().int().min(60).default(8 * 60 * 60),
  HANGAR_OIDC_ISSUER: optionalString.pipe(z.string().url("HANGAR_OIDC_ISSUER must be a URL").optional()),
  HANGAR_OIDC_CLIENT_ID: optionalString,
  HANGAR_OIDC_CLIENT_SECRET: optionalString,
  HANGAR_OIDC_NAME: z.string().trim().min(1).default("Single sign-on"),
  HANGAR_OIDC_ADMIN_EMAILS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((email) => email.trim().toLowerCase())
        .filter(Boolean),
    ),
  HANGAR_WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(1),
  // A running build whose worker has not checked in for this long is taken as dead.
  HANGAR_BUILD_STALE_SECONDS: z.coerce.number().int().min(3).max(3600).default(60),
  // Hosts a build's package manager may reach through Hangar's proxy (".example.org" allows every
  // name under it). Unset: the usual distribution mirrors and the hosts in this machine's apt sources.
  HANGAR_BUILD_MIRRORS: optionalString.transform((value) => value?.split(",").map((host) => host.trim().toLowerCase()).filter(Boolean)).pipe(
    z.array(z.string().regex(/^\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, "HANGAR_BUILD_MIRRORS must list host names, separated by commas (e.g. deb.debian.org,.archive.ubuntu.com)")).optional(),
  ),
  // Non-global addresses (an internal mirror) that an allowed mirror host may resolve to.
  HANGAR_BUILD_MIRROR_ADDRESSES: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((address) => address.trim()).filter(Boolean))
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()], "HANGAR_BUILD_MIRROR_ADDRESSES must list IP addresses, separated by commas"))),
  HANGAR_SEED_DEMO: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
});

export type HangarEnv = z.infer<typeof envSchema> & { dataDir: string; oidcEnabled: boolean };

let cached: HangarEnv | undefined;

export function readEnv(source: Record<string, string | undefined> = process.env): HangarEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Hangar's configuration is invalid; fix these environment variables (see .env.example):\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  const oidcValues = [env.HANGAR_OIDC_ISSUER, env.HANGAR_OIDC_CLIENT_ID, env.HANGAR_OIDC_CLIENT_SECRET];
  const oidcSet = oidcValues.filter(Boolean).length;
  if (oidcSet !== 0 && oidcSet !== 3) {
    throw new Error(
      "Hangar's configuration is invalid: set all three of HANGAR_OIDC_ISSUER, HANGAR_OIDC_CLIENT_ID and HANGAR_OIDC_CLIENT_SECRET to enable single sign-on, or none of them.",
    );
  }
  return { ...env, dataDir: path.resolve(env.HANGAR_DATA_DIR), oidcEnabled: oidcSet === 3 };
}

export function env(): HangarEnv {
  cached ??= readEnv();
  return cached;
}
