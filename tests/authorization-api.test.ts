// Every /api/v1 operation × every kind of token holder, through the real route handlers on the real
// database. A holder is a person of the authorization world with a token of some scope (or a project
// token, or nobody). What a holder gets follows from two rules: the token's scope must cover what the
// operation needs (else 403 before anything is read), and then the person's rights, narrowed to the
// token, decide as they do in the web UI. Every answer's status must be one the OpenAPI document
// lists for that operation, and a refused change must leave the database exactly as it was.
import { sql } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import type { ProjectRole, TokenScope } from "@/db/enums";
import { finishBuild, queueBuild } from "@/db/queries/builds";
import { saveRecipe } from "@/db/queries/recipes";
import { issueApiToken } from "@/lib/api/tokens";
import { closeQueue } from "@/lib/jobs/queue";
import type { RecipeDocument } from "@/lib/recipes/yaml";
import { apiDocument } from "@/lib/api/openapi/document";
import { unique } from "./fixtures";
import {
  adminsOnly,
  anyoneSignedIn,
  contributors,
  createWorld,
  imageWith,
  managers,
  projectRoles,
  realVersion,
  type CallerName,
  type Expectation,
  type Outcome,
  type World,
} from "./authorization-world";

vi.mock("@/lib/auth/session", () => ({ getViewer: async () => null }));

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];

interface Request_ {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Case {
  /** "METHOD /api/v1/path/{param}", as in the OpenAPI document. */
  operation: string;
  need: TokenScope;
  /** What each person gets with a token that covers `need` (the project's targets live in P). */
  expected: Expectation;
  /** A fresh target for one cell: what to send. */
  cell: () => Promise<Request_>;
  /** What tells this row from another of the same operation. */
  note?: string;
}

interface Holder {
  name: string;
  /** Whose rights decide, once the scope covers the operation (null: nobody signed in). */
  actsAs: CallerName;
  scope: TokenScope | null;
  secret: string | null;
}

let world: World;
let holders: Holder[] = [];
let shared: { imageSlug: string; versionId: string };

const everyone: Expectation = { ...anyoneSignedIn, anonymous: "ok" };

const cases = (): Case[] => [
  {
    operation: "GET /api/v1/openapi.json",
    need: "read",
    expected: everyone,
    cell: async () => ({}),
  },
  {
    operation: "GET /api/v1/images/{slug}/channels/{channel}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: shared.imageSlug, channel: "latest" } }),
  },
  {
    operation: "GET /api/v1/versions/{id}/download",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: shared.versionId } }),
  },
  {
    operation: "HEAD /api/v1/versions/{id}/download",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: shared.versionId } }),
  },
  ...buildCases(),
  // ── images, versions, channels, projects, clones ──
  // Lists answer everyone signed in, each with what they may see (the list tests check the contents).
  { operation: "GET /api/v1/images", need: "read", expected: anyoneSignedIn, cell: async () => ({}) },
  {
    operation: "POST /api/v1/images",
    need: "write",
    expected: contributors,
    cell: async () => ({ body: { project: world.project.slug, slug: unique("api-new"), name: "New", os: "Debian" } }),
  },
  {
    operation: "GET /api/v1/images/{slug}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: shared.imageSlug } }),
  },
  {
    operation: "PATCH /api/v1/images/{slug}",
    need: "write",
    expected: contributors,
    cell: async () => ({
      params: { slug: (await imageWith(world.project.id, ["approved"])).slug },
      body: { name: "Renamed", addTags: ["checked"], setProperties: { hw_disk_bus: "virtio" } },
    }),
  },
  {
    operation: "PATCH /api/v1/images/{slug}",
    note: "with visibility, the owner's: refused to members as a whole",
    need: "write",
    expected: managers,
    cell: async () => ({
      params: { slug: (await imageWith(world.project.id, ["approved"])).slug },
      body: { name: "Renamed", visibility: "public" },
    }),
  },
  {
    operation: "GET /api/v1/images/{slug}/versions",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: shared.imageSlug } }),
  },
  {
    operation: "GET /api/v1/images/{slug}/versions/{version}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: shared.imageSlug, version: "1.0" } }),
  },
  {
    operation: "GET /api/v1/images/{slug}/channels",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: shared.imageSlug } }),
  },
  {
    operation: "PUT /api/v1/images/{slug}/channels/{channel}",
    need: "write",
    expected: managers,
    cell: async () => {
      const image = await imageWith(world.project.id, ["approved"]);
      return { params: { slug: image.slug, channel: "stable" }, body: { versionId: image.versions[0] } };
    },
  },
  { operation: "GET /api/v1/versions", need: "read", expected: anyoneSignedIn, cell: async () => ({}) },
  {
    operation: "GET /api/v1/versions/{id}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: shared.versionId } }),
  },
  {
    // Anyone who may download a version may ask for it in another format.
    operation: "POST /api/v1/versions/{id}/conversions",
    need: "write",
    expected: projectRoles,
    cell: async () => ({
      params: { id: (await imageWith(world.project.id, ["approved"])).versions[0]! },
      body: { format: "raw" },
    }),
  },
  {
    operation: "POST /api/v1/versions/{id}/clones",
    need: "write",
    expected: contributors,
    cell: async () => ({
      params: { id: (await realVersion(world, { projectId: world.project.id })).versionId },
      body: { project: world.project.slug, newImageSlug: unique("api-clone"), version: "1.0", mode: "linked" },
    }),
  },
  { operation: "GET /api/v1/projects", need: "read", expected: anyoneSignedIn, cell: async () => ({}) },
  {
    operation: "GET /api/v1/projects/{slug}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: world.project.slug } }),
  },
  {
    operation: "GET /api/v1/projects/{slug}/members",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: world.project.slug } }),
  },
  {
    operation: "GET /api/v1/projects/{slug}/clones",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { slug: world.project.slug } }),
  },
];

// Recipes, builds, reviews and release changes. Builds are queued (never run) and ended afterwards.
const buildCases = (): Case[] => [
  { operation: "GET /api/v1/recipes", need: "read", expected: anyoneSignedIn, cell: async () => ({}) },
  {
    operation: "POST /api/v1/recipes",
    need: "write",
    expected: contributors,
    cell: async () => ({ body: { project: world.project.slug, document: recipeDocument() } }),
  },
  {
    operation: "GET /api/v1/recipes/{id}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: await newRecipe() } }),
  },
  {
    operation: "PUT /api/v1/recipes/{id}",
    need: "write",
    expected: contributors,
    cell: async () => ({ params: { id: await newRecipe() }, body: { document: recipeDocument() } }),
  },
  {
    operation: "POST /api/v1/recipes/{id}/builds",
    need: "write",
    expected: contributors,
    cell: async () => ({ params: { id: await newRecipe() } }),
  },
  {
    operation: "GET /api/v1/builds/{id}",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: await newBuild({ ended: false }) } }),
  },
  {
    operation: "GET /api/v1/builds/{id}/log",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: await newBuild({ ended: true }) } }),
  },
  {
    // Started by the admin, so only owners (and the admin) may cancel it.
    operation: "POST /api/v1/builds/{id}/cancel",
    need: "write",
    expected: managers,
    cell: async () => ({ params: { id: await newBuild({ ended: false }) } }),
  },
  {
    operation: "POST /api/v1/builds/{id}/retry",
    need: "write",
    expected: contributors,
    cell: async () => ({ params: { id: await newBuild({ ended: true }) } }),
  },
  { operation: "GET /api/v1/reviews", need: "read", expected: anyoneSignedIn, cell: async () => ({}) },
  {
    operation: "POST /api/v1/versions/{id}/release",
    need: "write",
    expected: adminsOnly,
    cell: async () => ({
      params: { id: (await imageWith(world.project.id, ["pending_review"])).versions[0]! },
      body: { action: "approve" },
    }),
  },
  {
    operation: "GET /api/v1/versions/{id}/release-changes",
    need: "read",
    expected: projectRoles,
    cell: async () => ({ params: { id: (await imageWith(world.project.id, ["pending_review"])).versions[0]! } }),
  },
];

let recipeImages: { base: string; output: string } | undefined;

function recipeDocument(): RecipeDocument {
  return {
    name: `matrix recipe ${randomUUID().slice(0, 8)}`,
    description: "",
    base: { image: recipeImages!.base, version: "1.1" },
    steps: [{ type: "write", path: "/etc/motd", content: "matrix\n" }],
    output: { image: recipeImages!.output, format: "qcow2" },
  } as RecipeDocument;
}

async function newRecipe(): Promise<string> {
  const saved = await saveRecipe({
    viewer: world.callers.owner!,
    projectId: world.project.id,
    document: recipeDocument(),
  });
  return saved.recipeId;
}

async function newBuild({ ended }: { ended: boolean }): Promise<string> {
  const queued = await queueBuild({
    viewer: world.callers.admin!,
    recipeId: await newRecipe(),
    force: true,
    send: async () => "not-sent",
  });
  if (!queued.queued) throw new Error("expected a new build");
  if (ended) await finishBuild(queued.buildId, { status: "cancelled" });
  return queued.buildId;
}

const scopeRank: Record<TokenScope, number> = { read: 0, write: 1, admin: 2 };

/** What a holder should get for a case. */
function outcomeFor(holder: Holder, entry: Case): Outcome {
  if (entry.expected.anonymous === "ok") return "ok";
  if (!holder.secret) return "unauthenticated";
  if (scopeRank[holder.scope!] < scopeRank[entry.need]) return "forbidden";
  return entry.expected[holder.actsAs];
}

async function routeOf(operation: string) {
  const [method, template] = operation.split(" ") as [Method, string];
  const directory = template
    .replace(/^\/api\/v1/, "")
    .split("/")
    .map((segment) => segment.replace(/^\{(.+)\}$/, "[$1]"))
    .join("/");
  const file = path.resolve(__dirname, `../app/api/v1${directory}/route.ts`);
  const module_ = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
  return module_[method] as (
    request: Request,
    context: { params: Promise<Record<string, string>> },
  ) => Promise<Response>;
}

async function send(entry: Case, holder: Holder, request: Request_): Promise<Response> {
  const [method, template] = entry.operation.split(" ") as [Method, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(request.params?.[name] ?? ""));
  const url = new URL(`http://hangar.test${path}`);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { ...request.headers };
  if (holder.secret) headers.authorization = `Bearer ${holder.secret}`;
  if (request.body !== undefined) headers["content-type"] ??= "application/json";
  const handler = await routeOf(entry.operation);
  return handler(
    new Request(url, {
      method,
      headers,
      body:
        request.body === undefined
          ? undefined
          : typeof request.body === "string"
            ? request.body
            : JSON.stringify(request.body),
    }),
    { params: Promise.resolve(request.params ?? {}) },
  );
}

// The tables an API change could touch, as one digest each; token bookkeeping (last use, the
// token.used audit row) is expected to change and is left out.
const watched = [
  "images",
  "image_versions",
  "image_tags",
  "channels",
  "channel_moves",
  "recipes",
  "recipe_revisions",
  "builds",
  "clones",
  "conversions",
  "reviews",
  "scheduled_releases",
  "projects",
  "project_members",
  "uploads",
];

async function fingerprint(): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const table of watched) {
    const rows = await db().execute<{ digest: string | null }>(
      sql.raw(`select md5(string_agg(t::text, '|' order by t::text)) as digest from ${table} t`),
    );
    digests[table] = rows.rows[0]?.digest ?? "";
  }
  const audit = await db().execute<{ digest: string | null }>(
    sql.raw(
      `select md5(string_agg(a::text, '|' order by a::text)) as digest from audit_events a where action <> 'token.used'`,
    ),
  );
  digests.audit_events = audit.rows[0]?.digest ?? "";
  return digests;
}

const statusOf: Record<Exclude<Outcome, "ok">, number> = { unauthenticated: 401, forbidden: 403, not_found: 404 };

function documentedStatuses(operation: string): string[] {
  const [method, template] = operation.split(" ") as [Method, string];
  const item = (apiDocument().paths ?? {})[template] as Record<string, { responses?: object }> | undefined;
  return Object.keys(item?.[method.toLowerCase()]?.responses ?? {});
}

async function tokenFor(
  userId: string,
  scope: TokenScope,
  project: { id: string; role: ProjectRole } | null = null,
): Promise<string> {
  const { secret } = await issueApiToken({
    userId,
    projectId: project?.id ?? null,
    projectRole: project?.role ?? null,
    name: `matrix ${scope}`,
    scope,
    expiresAt: null,
  });
  return secret;
}

beforeAll(async () => {
  world = await createWorld();
  const version = await realVersion(world, { projectId: world.project.id });
  shared = { imageSlug: version.imageSlug, versionId: version.versionId };
  recipeImages = {
    base: (await imageWith(world.project.id, ["approved"])).slug,
    output: (await imageWith(world.project.id, [])).slug,
  };
  const people: CallerName[] = ["viewer", "member", "owner", "other member", "other owner"];
  holders = [{ name: "nobody", actsAs: "anonymous", scope: null, secret: null }];
  for (const person of people)
    for (const scope of ["read", "write"] as const)
      holders.push({
        name: `${person}, ${scope} token`,
        actsAs: person,
        scope,
        secret: await tokenFor(world.callers[person]!.id, scope),
      });
  const admin = world.callers.admin!;
  // An admin's read or write token carries no admin power: the admin is then an outsider to P.
  holders.push(
    { name: "admin, read token", actsAs: "other member", scope: "read", secret: await tokenFor(admin.id, "read") },
    { name: "admin, write token", actsAs: "other member", scope: "write", secret: await tokenFor(admin.id, "write") },
    { name: "admin, admin token", actsAs: "admin", scope: "admin", secret: await tokenFor(admin.id, "admin") },
  );
  const owner = world.callers.owner!;
  // The owner's project tokens for CI: limited to P and to the role they were made with.
  holders.push(
    {
      name: "owner's P token as viewer",
      actsAs: "viewer",
      scope: "read",
      secret: await tokenFor(owner.id, "read", { id: world.project.id, role: "viewer" }),
    },
    {
      name: "owner's P token as member",
      actsAs: "member",
      scope: "write",
      secret: await tokenFor(owner.id, "write", { id: world.project.id, role: "member" }),
    },
    {
      name: "other owner's Q token",
      actsAs: "other owner",
      scope: "write",
      secret: await tokenFor(world.callers["other owner"]!.id, "write", { id: world.otherProject.id, role: "owner" }),
    },
  );
});

// Builds the allowed calls queued must not wait for a worker of a later test file to run them.
afterAll(async () => {
  await db().execute(sql`update builds set status = 'cancelled', finished_at = now() where status = 'queued'`);
  await closeQueue();
});

describe("the /api/v1 authorization matrix", () => {
  it("has a row for every operation in the OpenAPI document", () => {
    const covered = new Set(cases().map((entry) => entry.operation));
    const documented: string[] = [];
    for (const [template, item] of Object.entries(apiDocument().paths ?? {}))
      for (const method of METHODS)
        if ((item as Record<string, unknown>)[method.toLowerCase()]) documented.push(`${method} ${template}`);
    expect(documented.filter((operation) => !covered.has(operation)).sort()).toEqual([]);
  });

  for (const entry of cases())
    it(`${entry.operation}${entry.note ? ` (${entry.note})` : ""}: every holder gets what their token and rights allow, and a refusal changes nothing`, async () => {
      const documented = documentedStatuses(entry.operation);
      const failures: string[] = [];
      for (const holder of holders) {
        const expected = outcomeFor(holder, entry);
        // The cell's fresh target is made first: only what the request itself does counts as a change.
        const request = await entry.cell();
        const before = entry.need === "read" || expected === "ok" ? null : await fingerprint();
        const response = await send(entry, holder, request);
        await response.body?.cancel();
        const status = response.status;
        const got = status < 400 ? "ok" : status;
        const want = expected === "ok" ? "ok" : statusOf[expected];
        if (got !== want) failures.push(`${holder.name}: expected ${want}, got ${status}`);
        if (!documented.includes(String(status))) failures.push(`${holder.name}: ${status} is not documented`);
        if (before) {
          const after = await fingerprint();
          const changed = Object.keys(before).filter((table) => before[table] !== after[table]);
          if (changed.length) failures.push(`${holder.name}: a refused request changed ${changed.join(", ")}`);
        }
      }
      expect(failures).toEqual([]);
    });
});
