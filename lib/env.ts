// Configuration comes only from the environment, validated once so a typo fails at start with a
// message instead of surfacing later as a confusing runtime error.
import path from "node:path";
import { z } from "zod";
import { parseByteSize } from "./format";

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

/** A comma-separated list, each entry trimmed, empty entries dropped; unset is an empty list. */
const commaList = () =>
  z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    );

/** A duration: a whole number of seconds, or with a unit (`90s`, `30m`, `2h`); at most 12 hours. */
function duration(name: string, fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((raw, context) => {
      const value = raw || fallback;
      const match = /^(\d+)\s*(s|m|h)?$/i.exec(value);
      const seconds = match
        ? Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? "s").toLowerCase() as "s" | "m" | "h"]
        : NaN;
      // The queue lets a job run a few minutes past its limit before handing it to another worker,
      // and pg-boss refuses expirations of a day or more.
      if (!(seconds >= 1 && seconds <= 12 * 3600)) {
        context.addIssue({
          code: "custom",
          message: `${name} must be a duration between 1s and 12h, such as 1800, 90s, 30m or 2h (got "${value}")`,
        });
        return z.NEVER;
      }
      return seconds * 1000;
    });
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HANGAR_DATA_DIR: z.string().trim().min(1).default(".hangar"),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must start with postgres:// or postgresql://")
      .optional(),
  ),
  HANGAR_ADMIN_EMAIL: z.string().trim().toLowerCase().email().default("admin@hangar.local"),
  HANGAR_ADMIN_PASSWORD: optionalString.pipe(
    z.string().min(12, "HANGAR_ADMIN_PASSWORD must be at least 12 characters").optional(),
  ),
  AUTH_SECRET: optionalString,
  // The one origin every URL Hangar builds starts with (OIDC redirects, set-password links).
  AUTH_URL: optionalString.pipe(
    z
      .string()
      .url("AUTH_URL must be a URL such as https://hangar.example.org")
      // Zod runs this even when the URL check failed; that case already has its message.
      .refine(
        (value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol),
        "AUTH_URL must start with http:// or https://",
      )
      .optional(),
  ),
  AUTH_SESSION_MAX_AGE: z.coerce
    .number()
    .int()
    .min(60)
    .default(8 * 60 * 60),
  HANGAR_OIDC_ISSUER: optionalString.pipe(z.string().url("HANGAR_OIDC_ISSUER must be a URL").optional()),
  HANGAR_OIDC_CLIENT_ID: optionalString,
  HANGAR_OIDC_CLIENT_SECRET: optionalString,
  HANGAR_OIDC_NAME: z.string().trim().min(1).default("Single sign-on"),
  HANGAR_OIDC_ADMIN_EMAILS: commaList().transform((emails) => emails.map((email) => email.toLowerCase())),
  // How long a one-time set-password link (an invitation or a reset) stays valid.
  HANGAR_PASSWORD_LINK_HOURS: z.coerce
    .number()
    .int()
    .min(1, "HANGAR_PASSWORD_LINK_HOURS is at least 1")
    .max(24 * 30, "HANGAR_PASSWORD_LINK_HOURS is at most 720 (30 days)")
    .default(72),
  HANGAR_WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(1),
  // When retention rules run (cron, server time zone); empty: never on their own.
  HANGAR_RETENTION_CRON: z
    .string()
    .trim()
    .regex(/^$|^(\S+\s+){4}\S+$/, "HANGAR_RETENTION_CRON is a cron expression of five fields, like 17 3 * * *")
    .default("17 3 * * *"),
  // A running build whose worker has not checked in for this long is taken as dead.
  HANGAR_BUILD_STALE_SECONDS: z.coerce.number().int().min(3).max(3600).default(60),
  // How many reverse proxies stand in front of Hangar: their X-Forwarded-For entries name the
  // client for the sign-in limits. 0: the socket's peer is the client, and the header is ignored.
  HANGAR_TRUST_PROXY: z.coerce
    .number({ message: "HANGAR_TRUST_PROXY must be a number of proxies (0 when clients connect directly)" })
    .int("HANGAR_TRUST_PROXY must be a whole number of proxies")
    .min(0, "HANGAR_TRUST_PROXY must be 0 or more")
    .max(10, "HANGAR_TRUST_PROXY counts proxies in front of Hangar; more than 10 is a mistake")
    .default(0),
  // The largest disk a recipe may grow its output to; a build must also fit its project's quota.
  HANGAR_MAX_GROW_SIZE: z
    .string()
    .default("256G")
    .transform((value, context) => {
      const bytes = parseByteSize(value);
      if (bytes === null || bytes < 1024 ** 2) {
        context.addIssue({
          code: "custom",
          message: "HANGAR_MAX_GROW_SIZE is a size of at least 1M, like 256G, 2T or a number of bytes",
        });
        return z.NEVER;
      }
      return bytes;
    }),
  // Largest virtual size of any image Hangar stores (uploads, URL imports, conversions, builds,
  // clones), whatever a project's quota: a disk that claims more is refused.
  HANGAR_MAX_VIRTUAL_SIZE: z
    .string()
    .trim()
    .default("2T")
    .transform((value, context) => {
      const bytes = parseByteSize(value);
      if (bytes === null || bytes <= 0) {
        context.addIssue({
          code: "custom",
          message: `“${value}” is not a byte size; write bytes (2199023255552) or a number with K, M, G, T or P (2T, 512G)`,
        });
        return z.NEVER;
      }
      return bytes;
    }),
  // Wall-clock limits, in milliseconds once parsed: builds have their own, every other long job
  // (conversions, clones, URL imports) shares one.
  HANGAR_BUILD_TIMEOUT: duration("HANGAR_BUILD_TIMEOUT", "30m"),
  HANGAR_JOB_TIMEOUT: duration("HANGAR_JOB_TIMEOUT", "2h"),
  // Boot tests: how long a guest may take to show its success condition (a login prompt or the
  // image's marker), and the memory it gets, in MiB (QEMU's address space and CPU time are bounded
  // from these with prlimit).
  HANGAR_BOOT_TEST_TIMEOUT: duration("HANGAR_BOOT_TEST_TIMEOUT", "10m"),
  HANGAR_BOOT_TEST_MEMORY: z.coerce
    .number({ message: "HANGAR_BOOT_TEST_MEMORY is the guest's memory in MiB, such as 512" })
    .int("HANGAR_BOOT_TEST_MEMORY is a whole number of MiB")
    .min(64, "HANGAR_BOOT_TEST_MEMORY is at least 64 (MiB)")
    .max(65536, "HANGAR_BOOT_TEST_MEMORY is at most 65536 (MiB)")
    .default(512),
  // Hardware acceleration for libguestfs (and qemu): auto probes whether KVM really runs a guest.
  HANGAR_ACCEL: z.enum(["auto", "kvm", "tcg"], { message: "HANGAR_ACCEL must be auto, kvm or tcg" }).default("auto"),
  // Hosts a build's package manager may reach through Hangar's proxy (".example.org" allows every
  // name under it). Unset: the usual distribution mirrors and the hosts in this machine's apt sources.
  HANGAR_BUILD_MIRRORS: optionalString
    .transform((value) =>
      value
        ?.split(",")
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .regex(
              /^\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/,
              "HANGAR_BUILD_MIRRORS must list host names, separated by commas (e.g. deb.debian.org,.archive.ubuntu.com)",
            ),
        )
        .optional(),
    ),
  // Non-global addresses (an internal mirror) that an allowed mirror host may resolve to.
  HANGAR_BUILD_MIRROR_ADDRESSES: commaList().pipe(
    z.array(z.union([z.ipv4(), z.ipv6()], "HANGAR_BUILD_MIRROR_ADDRESSES must list IP addresses, separated by commas")),
  ),
  // URL imports reach ports 80 and 443 and public addresses; these add ports and exact internal
  // addresses (an internal mirror) an admin allows. Values that are not ports are ignored.
  HANGAR_URL_IMPORT_PORTS: commaList().transform((ports) =>
    ports.map(Number).filter((port) => port > 0 && port < 65536),
  ),
  HANGAR_URL_IMPORT_ALLOW_ADDRESSES: commaList(),
  /** One webhook delivery attempt's limit; a timeout counts as a failed attempt. */
  HANGAR_WEBHOOK_TIMEOUT: duration("HANGAR_WEBHOOK_TIMEOUT", "10s"),
  /** The first retry's delay; each next one doubles (pg-boss backoff). */
  HANGAR_WEBHOOK_RETRY_DELAY: duration("HANGAR_WEBHOOK_RETRY_DELAY", "5s"),
  // The libguestfs tools builds and identity resets run; tests point them at stand-ins.
  HANGAR_VIRT_CUSTOMIZE: z.string().trim().min(1).default("virt-customize"),
  HANGAR_VIRT_SYSPREP: z.string().trim().min(1).default("virt-sysprep"),
  // libguestfs's own settings, passed on to every libguestfs run (HANGAR_ACCEL adds force_tcg).
  LIBGUESTFS_BACKEND: z
    .string()
    .trim()
    .default("direct")
    .transform((value) => value || "direct"),
  LIBGUESTFS_BACKEND_SETTINGS: z.string().trim().default(""),
  // The embedded PostgreSQL's port; unset, a free one is picked at each start.
  HANGAR_PG_PORT: optionalString.pipe(
    z.coerce
      .number<string | undefined>()
      .int()
      .min(1, "HANGAR_PG_PORT must be a port number")
      .max(65535, "HANGAR_PG_PORT must be a port number")
      .optional(),
  ),
  // Connections each process keeps to PostgreSQL at most.
  HANGAR_DB_POOL_MAX: z.coerce.number().int().min(1, "HANGAR_DB_POOL_MAX is at least 1").max(1000).default(10),
  // Structured logs (pino): the least severe level written.
  HANGAR_LOG_LEVEL: z.preprocess(
    (value) => (typeof value === "string" ? value.trim().toLowerCase() || undefined : value),
    z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        message: "HANGAR_LOG_LEVEL is one of fatal, error, warn, info, debug, trace or silent",
      })
      .default("info"),
  ),
  // GET /metrics: with a token, callers send `Authorization: Bearer <token>`; without one, only
  // loopback clients are answered. HANGAR_METRICS_PORT also serves it, without auth, on its own port.
  HANGAR_METRICS_TOKEN: optionalString,
  HANGAR_METRICS_PORT: optionalString.pipe(
    z.coerce
      .number<string | undefined>()
      .int()
      .min(1, "HANGAR_METRICS_PORT must be a port number")
      .max(65535, "HANGAR_METRICS_PORT must be a port number")
      .optional(),
  ),
  HANGAR_METRICS_HOST: z
    .string()
    .trim()
    .default("127.0.0.1")
    .transform((value) => value || "127.0.0.1"),
  HANGAR_SEED_DEMO: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  // The demo catalog also builds a real, bootable Debian 12 from Debian's packages (a background
  // job of a few minutes that needs the Debian mirror in apt's sources).
  HANGAR_DEMO_REAL_DEBIAN: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  // Where blobs live: a local directory under HANGAR_DATA_DIR, or an S3-compatible bucket (each
  // blob an object named <HANGAR_S3_PREFIX><sha256>). Checked together in readEnv.
  HANGAR_BLOB_STORE: z.preprocess(
    (value) => (typeof value === "string" ? value.trim().toLowerCase() || undefined : value),
    z.enum(["local", "s3"], { message: "HANGAR_BLOB_STORE is local (the default) or s3" }).default("local"),
  ),
  HANGAR_S3_ENDPOINT: optionalString.pipe(
    z
      .string()
      .refine(
        (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
        "HANGAR_S3_ENDPOINT must be an http:// or https:// URL such as https://s3.example.org (unset: AWS S3 itself)",
      )
      .optional(),
  ),
  HANGAR_S3_BUCKET: optionalString.pipe(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "HANGAR_S3_BUCKET must be a bucket name: 3-63 lowercase letters, digits, dots or dashes",
      )
      .optional(),
  ),
  HANGAR_S3_REGION: z
    .string()
    .trim()
    .default("us-east-1")
    .transform((value) => value || "us-east-1"),
  HANGAR_S3_ACCESS_KEY_ID: optionalString,
  HANGAR_S3_SECRET_ACCESS_KEY: optionalString,
  // Unset: path-style (https://host/bucket/key) when an endpoint is set, as most S3-compatible
  // servers need; virtual-host style for AWS.
  HANGAR_S3_FORCE_PATH_STYLE: optionalString.pipe(
    z
      .enum(["true", "false", "1", "0"], { message: "HANGAR_S3_FORCE_PATH_STYLE is true or false" })
      .transform((value) => value === "true" || value === "1")
      .optional(),
  ),
  HANGAR_S3_PREFIX: z
    .string()
    .trim()
    .default("")
    .pipe(
      z
        .string()
        .regex(
          /^([A-Za-z0-9._-]+\/)*$/,
          "HANGAR_S3_PREFIX is empty or folder names ending in /, such as hangar/blobs/ (letters, digits, . _ -)",
        ),
    ),
  // With HANGAR_BLOB_STORE=s3, how an authorised download reaches the caller: streamed through
  // Hangar, or redirected to a presigned URL of the object for HANGAR_S3_REDIRECT_SECONDS.
  HANGAR_S3_DOWNLOADS: z.preprocess(
    (value) => (typeof value === "string" ? value.trim().toLowerCase() || undefined : value),
    z
      .enum(["stream", "redirect"], { message: "HANGAR_S3_DOWNLOADS is stream (the default) or redirect" })
      .default("stream"),
  ),
  HANGAR_S3_REDIRECT_SECONDS: z.coerce
    .number({ message: "HANGAR_S3_REDIRECT_SECONDS is a number of seconds from 1 to 604800 (7 days)" })
    .int("HANGAR_S3_REDIRECT_SECONDS is a whole number of seconds from 1 to 604800 (7 days)")
    .min(1, "HANGAR_S3_REDIRECT_SECONDS is a number of seconds from 1 to 604800 (7 days)")
    .max(604_800, "HANGAR_S3_REDIRECT_SECONDS is at most 604800 (7 days), the longest a presigned URL lives")
    .default(300),
  // With HANGAR_BLOB_STORE=s3, tools (qemu-img, libguestfs) read blobs from a local cache under
  // HANGAR_DATA_DIR of at most this many bytes; the least recently used are evicted.
  HANGAR_BLOB_CACHE_BYTES: z
    .string()
    .trim()
    .default("20G")
    .transform((value, context) => {
      const bytes = parseByteSize(value || "20G");
      if (bytes === null || bytes < 1024 ** 2) {
        context.addIssue({
          code: "custom",
          message: "HANGAR_BLOB_CACHE_BYTES is a size of at least 1M, like 20G, 500G or a number of bytes",
        });
        return z.NEVER;
      }
      return bytes;
    }),
  // API tokens: expiry in days when none is given, and whether a token may be made that never expires.
  HANGAR_TOKEN_DEFAULT_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  HANGAR_TOKEN_ALLOW_NO_EXPIRY: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  // Requests per minute one API token (or one signed-in person, or one address without either) may make.
  HANGAR_API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(600),
});

export type HangarEnv = z.infer<typeof envSchema> & { dataDir: string; oidcEnabled: boolean; origin: string };

/** Every variable Hangar reads; .env.example and the README list each of them (lib/env.test.ts checks). */
export const envVariables = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

let cached: { fingerprint: string; env: HangarEnv } | undefined;

export function readEnv(source: Record<string, string | undefined> = process.env): HangarEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(
      `Hangar's configuration is invalid; fix these environment variables (see .env.example):\n${lines.join("\n")}`,
    );
  }
  const env = parsed.data;
  const oidcValues = [env.HANGAR_OIDC_ISSUER, env.HANGAR_OIDC_CLIENT_ID, env.HANGAR_OIDC_CLIENT_SECRET];
  const oidcSet = oidcValues.filter(Boolean).length;
  if (oidcSet !== 0 && oidcSet !== 3) {
    throw new Error(
      "Hangar's configuration is invalid: set all three of HANGAR_OIDC_ISSUER, HANGAR_OIDC_CLIENT_ID and HANGAR_OIDC_CLIENT_SECRET to enable single sign-on, or none of them.",
    );
  }
  if (env.HANGAR_BLOB_STORE === "s3" && !env.HANGAR_S3_BUCKET) {
    throw new Error(
      "Hangar's configuration is invalid: HANGAR_BLOB_STORE=s3 needs HANGAR_S3_BUCKET, the bucket that holds the blobs (and HANGAR_S3_ENDPOINT unless it is AWS S3).",
    );
  }
  if (env.HANGAR_S3_DOWNLOADS === "redirect" && env.HANGAR_BLOB_STORE !== "s3") {
    throw new Error(
      "Hangar's configuration is invalid: HANGAR_S3_DOWNLOADS=redirect sends downloads to the bucket, so it needs HANGAR_BLOB_STORE=s3; unset it for the local store.",
    );
  }
  if (Boolean(env.HANGAR_S3_ACCESS_KEY_ID) !== Boolean(env.HANGAR_S3_SECRET_ACCESS_KEY)) {
    throw new Error(
      "Hangar's configuration is invalid: set both HANGAR_S3_ACCESS_KEY_ID and HANGAR_S3_SECRET_ACCESS_KEY, or neither (then the AWS SDK's own credential chain is used).",
    );
  }
  // Only the origin counts: Hangar is served at the root of its host.
  const origin = env.AUTH_URL ? new URL(env.AUTH_URL).origin : `http://localhost:${env.PORT}`;
  return { ...env, dataDir: path.resolve(env.HANGAR_DATA_DIR), oidcEnabled: oidcSet === 3, origin };
}

/**
 * The parsed configuration. Parsed again only when one of its variables changed since (tests and
 * the start script set some at run time), so a call costs a few property reads.
 */
export function env(): HangarEnv {
  const fingerprint = envVariables.map((name) => process.env[name] ?? "\u0000").join("\u0001");
  if (cached?.fingerprint !== fingerprint) cached = { fingerprint, env: readEnv() };
  return cached.env;
}
