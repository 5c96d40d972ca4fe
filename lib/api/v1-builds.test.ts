// /api/v1 recipes, builds, reviews and release changes, called as Next calls the route handlers,
// with real tokens on the real database. Builds are queued but never run: their state and log
// lines are written the way a worker writes them, to drive the SSE route.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { appendBuildLogs, claimBuild } from "@/db/queries/build-runs";
import { finishBuild, queueBuild } from "@/db/queries/builds";
import { builds, imageVersions } from "@/db/schema";
import type { Viewer } from "@/db/queries/users";
import type { TokenScope } from "@/db/enums";
import { buildEventStream } from "@/lib/builds/log-stream";
import { closeQueue } from "@/lib/jobs/queue";
import { recipeToYaml, type RecipeDocument } from "@/lib/recipes/yaml";
import {
  createTestBuildOutput,
  createTestImage,
  createTestProject,
  createTestUser,
  unique,
  viewerOf,
} from "@/tests/fixtures";
import { issueApiToken } from "./tokens";

// Signed out, except where a test signs someone in for the browser's own build page stream.
const session = vi.hoisted(() => ({ viewer: null as unknown }));
vi.mock("@/lib/auth/session", () => ({ getViewer: async () => session.viewer }));

const recipesRoute = await import("@/app/api/v1/recipes/route");
const recipeRoute = await import("@/app/api/v1/recipes/[id]/route");
const startRoute = await import("@/app/api/v1/recipes/[id]/builds/route");
const buildRoute = await import("@/app/api/v1/builds/[id]/route");
const logRoute = await import("@/app/api/v1/builds/[id]/log/route");
const cancelRoute = await import("@/app/api/v1/builds/[id]/cancel/route");
const retryRoute = await import("@/app/api/v1/builds/[id]/retry/route");
const browserEventsRoute = await import("@/app/api/builds/[id]/events/route");
const reviewsRoute = await import("@/app/api/v1/reviews/route");
const releaseRoute = await import("@/app/api/v1/versions/[id]/release/route");
const changesRoute = await import("@/app/api/v1/versions/[id]/release-changes/route");

type Handler<P> = (request: Request, context: { params: Promise<P> }) => Promise<Response>;

function call<P>(
  handler: Handler<P>,
  {
    params,
    token,
    method = "GET",
    path = "/api/v1/x",
    body,
    headers = {},
    signal,
  }: {
    params?: P;
    token?: string;
    method?: string;
    path?: string;
    body?: unknown;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  },
) {
  const json = body !== undefined && typeof body !== "string";
  return handler(
    new Request(`http://hangar.test${path}`, {
      method,
      signal,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(json ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : json ? JSON.stringify(body) : (body as string),
    }),
    { params: Promise.resolve((params ?? {}) as P) },
  );
}

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string; fields?: Record<string, string[]> } }).error;

async function tokenOf(viewer: Viewer, scope: TokenScope) {
  return (
    await issueApiToken({ userId: viewer.id, projectId: null, projectRole: null, name: scope, scope, expiresAt: null })
  ).secret;
}

let owner: Viewer;
let member: Viewer;
let admin: Viewer;
let project: { id: string; slug: string };
let document: RecipeDocument;
type TokenHolder =
  "ownerWrite" | "ownerRead" | "memberWrite" | "viewerWrite" | "outsiderWrite" | "adminAdmin" | "adminWrite";
const tokens = {} as Record<TokenHolder, string>;

beforeAll(async () => {
  owner = await createTestUser();
  member = await createTestUser();
  admin = await createTestUser({ role: "admin" });
  const viewer = await createTestUser();
  const outsider = await createTestUser();
  const created = await createTestProject({
    members: [
      { viewer: owner, role: "owner" },
      { viewer: member, role: "member" },
      { viewer, role: "viewer" },
    ],
  });
  project = { id: created.id, slug: created.slug };
  member = (await viewerOf(member.id))!;
  const base = await createTestImage({ projectId: project.id, versions: [{ version: "1.0" }] });
  const output = await createTestImage({ projectId: project.id, versions: [] });
  document = {
    name: unique("api recipe"),
    description: "made through the API",
    base: { image: base.slug, version: "1.0" },
    steps: [{ type: "write", path: "/etc/motd", content: "hello\n" }],
    output: { image: output.slug, format: "qcow2" },
  } as RecipeDocument;
  tokens.ownerWrite = await tokenOf(owner, "write");
  tokens.ownerRead = await tokenOf(owner, "read");
  tokens.memberWrite = await tokenOf(member, "write");
  tokens.viewerWrite = await tokenOf(viewer, "write");
  tokens.outsiderWrite = await tokenOf(outsider, "write");
  tokens.adminAdmin = await tokenOf(admin, "admin");
  tokens.adminWrite = await tokenOf(admin, "write");
});

afterAll(async () => {
  // Nothing here is left queued (each build is cancelled or ended), so no later worker builds it.
  await db().update(builds).set({ status: "cancelled", finishedAt: new Date() }).where(eq(builds.status, "queued"));
  await closeQueue();
});

interface RecipeJson {
  id: string;
  name: string;
  revision: number;
  project: { id: string; slug: string };
  base: { image: string };
  output: { image: string };
}
interface BuildJson {
  id: string;
  status: string;
  recipeId: string;
  revision: number;
  cancelRequested: boolean;
  reused: boolean;
  failureReason: string | null;
  output: { imageSlug: string; version: string | null; versionId: string | null };
}

async function createRecipe(): Promise<RecipeJson> {
  const response = await call(recipesRoute.POST, {
    method: "POST",
    path: `/api/v1/recipes?project=${project.slug}`,
    token: tokens.memberWrite,
    headers: { "content-type": "application/yaml" },
    body: recipeToYaml({ ...document, name: unique("api recipe") }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as RecipeJson;
}

describe("recipes over /api/v1", () => {
  it("creates from YAML, answers the same YAML back, and a PUT of it makes no new revision while a change does", async () => {
    const recipe = await createRecipe();
    expect(recipe.revision).toBe(1);
    expect(recipe.project).toEqual(project);
    expect(recipe.output.image).toBe(document.output.image);

    const yaml = await call(recipeRoute.GET, {
      params: { id: recipe.id },
      token: tokens.ownerRead,
      path: "/api/v1/x?format=yaml",
    });
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get("content-type")).toMatch(/^application\/yaml/);
    const text = await yaml.text();
    expect(text).toContain(`name: ${recipe.name}`);
    const byAccept = await call(recipeRoute.GET, {
      params: { id: recipe.id },
      token: tokens.ownerRead,
      headers: { accept: "application/yaml" },
    });
    expect(await byAccept.text()).toBe(text);
    const badFormat = await call(recipeRoute.GET, {
      params: { id: recipe.id },
      token: tokens.ownerRead,
      path: "/api/v1/x?format=xml",
    });
    expect(badFormat.status).toBe(400);
    expect((await errorOf(badFormat)).fields?.format).toBeDefined();

    const same = await call(recipeRoute.PUT, {
      params: { id: recipe.id },
      method: "PUT",
      token: tokens.ownerWrite,
      headers: { "content-type": "text/yaml" },
      body: text,
    });
    expect(same.status).toBe(200);
    expect(((await same.json()) as RecipeJson).revision).toBe(1);

    const changed = await call(recipeRoute.PUT, {
      params: { id: recipe.id },
      method: "PUT",
      token: tokens.ownerWrite,
      headers: { "content-type": "application/yaml" },
      body: text.replace("made through the API", "changed through the API"),
    });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as RecipeJson).revision).toBe(2);

    const json = await call(recipeRoute.GET, { params: { id: recipe.id }, token: tokens.ownerRead });
    const got = (await json.json()) as RecipeJson & { document: RecipeDocument };
    expect(got.revision).toBe(2);
    expect(got.document.description).toBe("changed through the API");

    // The create body works for an update too, as long as it names the recipe's own project.
    const put = (body: unknown) =>
      call(recipeRoute.PUT, { params: { id: recipe.id }, method: "PUT", token: tokens.ownerWrite, body });
    const ownProject = await put({ project: project.slug, document: got.document });
    expect(ownProject.status).toBe(200);
    expect(((await ownProject.json()) as RecipeJson).revision).toBe(2);
    const moved = await put({ project: unique("elsewhere"), document: { ...got.document, description: "moved" } });
    expect(moved.status).toBe(400);
    expect((await errorOf(moved)).fields?.project).toBeDefined();
    const after = (await (
      await call(recipeRoute.GET, { params: { id: recipe.id }, token: tokens.ownerRead })
    ).json()) as RecipeJson;
    expect(after.revision).toBe(2);
  });

  it("creates from JSON {project, document} and lists by project, paged by a signed cursor", async () => {
    const created = await call(recipesRoute.POST, {
      method: "POST",
      token: tokens.ownerWrite,
      body: { project: project.slug, document: { ...document, name: unique("json recipe") } },
    });
    expect(created.status).toBe(201);
    await createRecipe();
    const first = await call(recipesRoute.GET, {
      token: tokens.ownerRead,
      path: `/api/v1/recipes?project=${project.slug}&limit=1`,
    });
    const page = (await first.json()) as { items: RecipeJson[]; nextCursor: string | null };
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).not.toBeNull();
    const second = await call(recipesRoute.GET, {
      token: tokens.ownerRead,
      path: `/api/v1/recipes?project=${project.slug}&limit=1&cursor=${page.nextCursor}`,
    });
    const next = (await second.json()) as { items: RecipeJson[] };
    expect(next.items).toHaveLength(1);
    expect(next.items[0]!.id).not.toBe(page.items[0]!.id);
    const tampered = await call(recipesRoute.GET, {
      token: tokens.ownerRead,
      path: `/api/v1/recipes?cursor=${page.nextCursor!.slice(0, -2)}xx`,
    });
    expect(tampered.status).toBe(400);
    expect((await errorOf(tampered)).fields?.cursor).toBeDefined();
    // A valid cursor of another list, and a parameter the list does not take, are 400s that say so.
    const foreign = await call(reviewsRoute.GET, {
      token: tokens.ownerRead,
      path: `/api/v1/reviews?cursor=${page.nextCursor}`,
    });
    expect(foreign.status).toBe(400);
    expect((await errorOf(foreign)).message).toMatch(/belongs to another list/);
    const unknownParameter = await call(recipesRoute.GET, {
      token: tokens.ownerRead,
      path: `/api/v1/recipes?projet=${project.slug}`,
    });
    expect(unknownParameter.status).toBe(400);
    expect((await errorOf(unknownParameter)).message).toMatch(/Unknown query parameter: projet/);
    const outsiders = await call(recipesRoute.GET, {
      token: tokens.outsiderWrite,
      path: `/api/v1/recipes?project=${project.slug}`,
    });
    expect(((await outsiders.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("refuses malformed YAML with its line and column, an oversized body, unknown fields and a missing project", async () => {
    const broken = await call(recipesRoute.POST, {
      method: "POST",
      path: `/api/v1/recipes?project=${project.slug}`,
      token: tokens.ownerWrite,
      headers: { "content-type": "application/yaml" },
      body: "name: x\nbase: [unclosed\nsteps: []\n",
    });
    expect(broken.status).toBe(400);
    expect((await errorOf(broken)).message).toMatch(/Line \d+, column \d+: This is not valid YAML/);

    const wrongShape = await call(recipesRoute.POST, {
      method: "POST",
      path: `/api/v1/recipes?project=${project.slug}`,
      token: tokens.ownerWrite,
      headers: { "content-type": "application/yaml" },
      body: recipeToYaml(document).replace("format: qcow2", "format: floppy"),
    });
    expect(wrongShape.status).toBe(400);
    const shapeError = await errorOf(wrongShape);
    expect(shapeError.fields?.["document.output.format"]?.[0]).toMatch(
      /^Line \d+: The output format is qcow2, raw, vmdk or vhdx/,
    );

    const huge = await call(recipesRoute.POST, {
      method: "POST",
      path: `/api/v1/recipes?project=${project.slug}`,
      token: tokens.ownerWrite,
      headers: { "content-type": "application/yaml" },
      body: `${recipeToYaml(document)}# ${"x".repeat(300 * 1024)}\n`,
    });
    expect(huge.status).toBe(413);

    const unknownField = await call(recipesRoute.POST, {
      method: "POST",
      token: tokens.ownerWrite,
      body: { project: project.slug, document, revision: 3 },
    });
    expect(unknownField.status).toBe(400);
    expect((await errorOf(unknownField)).fields?.revision).toBeDefined();

    const noProject = await call(recipesRoute.POST, {
      method: "POST",
      token: tokens.ownerWrite,
      headers: { "content-type": "application/yaml" },
      body: recipeToYaml(document),
    });
    expect(noProject.status).toBe(400);
    expect((await errorOf(noProject)).fields?.project).toBeDefined();

    const plain = await call(recipesRoute.POST, {
      method: "POST",
      token: tokens.ownerWrite,
      headers: { "content-type": "text/plain" },
      body: recipeToYaml(document),
    });
    expect(plain.status).toBe(415);
  });

  it("is a 404 to an outsider, a 403 to a project viewer saving, and a 403 to a read token", async () => {
    const recipe = await createRecipe();
    expect((await call(recipeRoute.GET, { params: { id: recipe.id }, token: tokens.outsiderWrite })).status).toBe(404);
    const put = (token: string) =>
      call(recipeRoute.PUT, {
        params: { id: recipe.id },
        method: "PUT",
        token,
        body: { document: { ...document, description: "not allowed" } },
      });
    expect((await put(tokens.outsiderWrite)).status).toBe(404);
    expect((await put(tokens.viewerWrite)).status).toBe(403);
    expect((await put(tokens.ownerRead)).status).toBe(403);
    const after = await call(recipeRoute.GET, { params: { id: recipe.id }, token: tokens.ownerRead });
    expect(((await after.json()) as RecipeJson).revision).toBe(1);
    const elsewhere = await call(recipesRoute.POST, {
      method: "POST",
      token: tokens.outsiderWrite,
      body: { project: project.slug, document },
    });
    expect(elsewhere.status).toBe(404);
    expect((await errorOf(elsewhere)).fields?.project).toBeDefined();
  });
});

describe("builds over /api/v1", () => {
  it("starts a build with a write token (202), refuses a read token (403) and an outsider (404), then cancels and retries", async () => {
    const recipe = await createRecipe();
    const start = (token: string, body?: unknown) =>
      call(startRoute.POST, { params: { id: recipe.id }, method: "POST", token, body });
    const refused = await start(tokens.ownerRead);
    expect(refused.status).toBe(403);
    expect((await start(tokens.outsiderWrite)).status).toBe(404);
    expect((await start(tokens.viewerWrite)).status).toBe(403);
    expect(await db().select({ id: builds.id }).from(builds).where(eq(builds.recipeId, recipe.id))).toEqual([]);

    const started = await start(tokens.memberWrite, { force: true });
    expect(started.status).toBe(202);
    const build = (await started.json()) as BuildJson;
    expect(build).toMatchObject({ status: "queued", recipeId: recipe.id, revision: 1, reused: false });
    expect(build.output).toEqual({ imageSlug: document.output.image, version: null, versionId: null });

    expect((await start(tokens.memberWrite, { force: "yes" })).status).toBe(400);
    expect((await start(tokens.memberWrite, { force: true, turbo: true })).status).toBe(400);

    const get = await call(buildRoute.GET, { params: { id: build.id }, token: tokens.ownerRead });
    expect(((await get.json()) as BuildJson).id).toBe(build.id);
    expect((await call(buildRoute.GET, { params: { id: build.id }, token: tokens.outsiderWrite })).status).toBe(404);

    const retryEarly = await call(retryRoute.POST, {
      params: { id: build.id },
      method: "POST",
      token: tokens.memberWrite,
    });
    expect(retryEarly.status).toBe(409);

    const cancel = (token: string) => call(cancelRoute.POST, { params: { id: build.id }, method: "POST", token });
    expect((await cancel(tokens.ownerRead)).status).toBe(403);
    expect((await cancel(tokens.viewerWrite)).status).toBe(403);
    expect((await cancel(tokens.outsiderWrite)).status).toBe(404);
    const cancelled = await cancel(tokens.memberWrite);
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as BuildJson).status).toBe("cancelled");
    expect((await cancel(tokens.memberWrite)).status).toBe(409);

    const retried = await call(retryRoute.POST, {
      params: { id: build.id },
      method: "POST",
      token: tokens.memberWrite,
    });
    expect(retried.status).toBe(202);
    const again = (await retried.json()) as BuildJson;
    expect(again.id).not.toBe(build.id);
    expect(again).toMatchObject({ status: "queued", recipeId: recipe.id, revision: 1 });
    const stop = await call(cancelRoute.POST, { params: { id: again.id }, method: "POST", token: tokens.ownerWrite });
    expect(((await stop.json()) as BuildJson).status).toBe("cancelled");
  });

  it("answers an earlier build with the same inputs (200, reused) when no body asks to force", async () => {
    const earlier = await createTestBuildOutput({ projectId: project.id, authors: [member], starter: member });
    const response = await call(startRoute.POST, {
      params: { id: earlier.recipeId },
      method: "POST",
      token: tokens.ownerWrite,
    });
    expect(response.status).toBe(200);
    const build = (await response.json()) as BuildJson;
    expect(build).toMatchObject({ id: earlier.buildId, status: "succeeded", reused: true });
    expect(build.output.versionId).toBe(earlier.versionId);
    expect(build.output.version).toMatch(/^build-\d+$/);
    expect(await db().select({ id: builds.id }).from(builds).where(eq(builds.recipeId, earlier.recipeId))).toHaveLength(
      1,
    );
  });

  it("asks a running build's worker to stop: cancelRequested, still running", async () => {
    const recipe = await createRecipe();
    const queued = await queueBuild({ viewer: member, recipeId: recipe.id, force: true, send: async () => "not-sent" });
    if (!queued.queued) throw new Error("expected a new build");
    await claimBuild(queued.buildId, {
      acceleration: "tcg",
      accelerationReason: "test",
      timeLimitSeconds: null,
      workerHost: "test",
      workerPid: 1,
    });
    const response = await call(cancelRoute.POST, {
      params: { id: queued.buildId },
      method: "POST",
      token: tokens.ownerWrite,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "running", cancelRequested: true });
    await finishBuild(queued.buildId, { status: "cancelled" });
  });
});

interface SseEvent {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads server-sent events until the stream closes or `stopWhen` says so. */
async function readEvents(response: Response, stopWhen: (events: SseEvent[]) => boolean = () => false) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { events, closed: true };
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { event: "message", data: null };
      for (const line of block.split("\n")) {
        const [field, ...rest] = line.split(": ");
        const text = rest.join(": ");
        if (field === "id") event.id = text;
        if (field === "event") event.event = text;
        if (field === "data") event.data = JSON.parse(text);
      }
      events.push(event);
    }
    if (stopWhen(events)) {
      await reader.cancel();
      return { events, closed: false };
    }
  }
}

describe("GET /api/v1/builds/{id}/log", () => {
  it("streams lines and state, resumes after Last-Event-ID, and ends with the final Build and closes", async () => {
    const recipe = await createRecipe();
    const queued = await queueBuild({ viewer: member, recipeId: recipe.id, force: true, send: async () => "not-sent" });
    if (!queued.queued) throw new Error("expected a new build");
    const buildId = queued.buildId;
    await claimBuild(buildId, {
      acceleration: "tcg",
      accelerationReason: "test",
      timeLimitSeconds: null,
      workerHost: "t",
      workerPid: 1,
    });
    await appendBuildLogs(buildId, [
      { stream: "stdout", line: "one" },
      { stream: "stdout", line: "two" },
    ]);

    const live = new AbortController();
    const first = await call(logRoute.GET, { params: { id: buildId }, token: tokens.ownerRead, signal: live.signal });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const seen = await readEvents(first, (events) => events.some((event) => event.event === "state"));
    const logEvent = seen.events.find((event) => event.event === "log")!;
    const lines = logEvent.data as { id: number; line: string }[];
    expect(lines.map((line) => line.line)).toEqual(["one", "two"]);
    expect(logEvent.id).toBe(String(lines[1]!.id));
    expect(seen.events.find((event) => event.event === "state")!.data).toMatchObject({
      id: buildId,
      status: "running",
    });
    live.abort();

    await appendBuildLogs(buildId, [{ stream: "stderr", line: "three" }]);
    // The client comes back with the last id it had; only the new line follows, then the end.
    const resumed = call(logRoute.GET, {
      params: { id: buildId },
      token: tokens.ownerRead,
      headers: { "last-event-id": logEvent.id! },
    });
    setTimeout(() => void finishBuild(buildId, { status: "failed", failureReason: "Step 1 failed." }), 600);
    const rest = await readEvents(await resumed);
    expect(rest.closed).toBe(true);
    const resumedLines = rest.events
      .filter((event) => event.event === "log")
      .flatMap((event) => event.data as { line: string }[]);
    expect(resumedLines.map((line) => line.line)).toEqual(["three"]);
    const end = rest.events.at(-1)!;
    expect(end.event).toBe("end");
    expect(end.data).toMatchObject({ id: buildId, status: "failed", failureReason: "Step 1 failed." });

    const fromQuery = await call(logRoute.GET, {
      params: { id: buildId },
      token: tokens.ownerRead,
      path: `/api/v1/builds/${buildId}/log?after=${lines[0]!.id}`,
    });
    const replay = await readEvents(fromQuery);
    expect(
      replay.events
        .filter((event) => event.event === "log")
        .flatMap((event) => (event.data as { line: string }[]).map((line) => line.line)),
    ).toEqual(["two", "three"]);
    expect(replay.events.at(-1)!.event).toBe("end");

    expect((await call(logRoute.GET, { params: { id: buildId }, token: tokens.outsiderWrite })).status).toBe(404);
    expect((await call(logRoute.GET, { params: { id: buildId } })).status).toBe(401);
  });

  it("stops polling when the client goes away", async () => {
    const recipe = await createRecipe();
    const queued = await queueBuild({ viewer: member, recipeId: recipe.id, force: true, send: async () => "not-sent" });
    if (!queued.queued) throw new Error("expected a new build");
    const gone = new AbortController();
    const response = await call(logRoute.GET, {
      params: { id: queued.buildId },
      token: tokens.ownerRead,
      signal: gone.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    gone.abort();
    // The stream closes on its own once the request is aborted, though the build is still queued.
    const closed = await Promise.race([
      (async () => {
        for (;;) if ((await reader.read()).done) return true;
      })(),
      new Promise((resolve) => setTimeout(() => resolve(false), 3000)),
    ]);
    expect(closed).toBe(true);
    await finishBuild(queued.buildId, { status: "cancelled" });
  });
});

describe("GET /api/builds/{id}/events (the browser's build page)", () => {
  it("still sends log, state in the page's shape, and end with the status, from the shared stream", async () => {
    const recipe = await createRecipe();
    const queued = await queueBuild({ viewer: member, recipeId: recipe.id, force: true, send: async () => "not-sent" });
    if (!queued.queued) throw new Error("expected a new build");
    await appendBuildLogs(queued.buildId, [{ stream: "stdout", line: "page line" }]);
    await finishBuild(queued.buildId, { status: "cancelled" });
    session.viewer = member;
    try {
      const response = await call(browserEventsRoute.GET, { params: { id: queued.buildId } });
      expect(response.status).toBe(200);
      const { events, closed } = await readEvents(response);
      expect(closed).toBe(true);
      expect(events.map((event) => event.event)).toEqual(["log", "state", "end"]);
      expect(events[1]!.data).toMatchObject({ status: "cancelled", outputImage: null, steps: expect.any(Array) });
      expect(events[2]!.data).toEqual({ status: "cancelled" });
      session.viewer = null;
      expect((await call(browserEventsRoute.GET, { params: { id: queued.buildId } })).status).toBe(401);
    } finally {
      session.viewer = null;
    }
  });
});

describe("buildEventStream", () => {
  it("stops polling once the reader cancels the body, though the request was not aborted", async () => {
    const recipe = await createRecipe();
    const queued = await queueBuild({ viewer: member, recipeId: recipe.id, force: true, send: async () => "not-sent" });
    if (!queued.queued) throw new Error("expected a new build");
    let ticks = 0;
    const response = buildEventStream({
      viewer: member,
      buildId: queued.buildId,
      after: 0,
      signal: new AbortController().signal,
      // The same state every tick: nothing is sent after the first, so only the cancel can stop it.
      stateOf: () => {
        ticks += 1;
        return { status: "queued" };
      },
      endOf: () => null,
    });
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await reader.cancel();
    const atCancel = ticks;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(ticks - atCancel).toBeLessThanOrEqual(1);
    await finishBuild(queued.buildId, { status: "cancelled" });
  });
});

describe("reviews and release changes over /api/v1", () => {
  async function pendingVersion() {
    const image = await createTestImage({
      projectId: project.id,
      versions: [{ version: "2.0", releaseStatus: "pending_review" }],
    });
    const [version] = await db()
      .select({ id: imageVersions.id })
      .from(imageVersions)
      .where(eq(imageVersions.imageId, image.id));
    return { id: version!.id, slug: image.slug };
  }
  const statusOf = async (id: string) =>
    (await db().select({ status: imageVersions.releaseStatus }).from(imageVersions).where(eq(imageVersions.id, id)))[0]!
      .status;
  const release = (id: string, token: string, body: unknown) =>
    call(releaseRoute.POST, { params: { id }, method: "POST", token, body });

  it("lists what the caller may decide on: an admin token sees the pending version, others see none", async () => {
    const version = await pendingVersion();
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const response: Response = await call(reviewsRoute.GET, {
        token: tokens.adminAdmin,
        path: `/api/v1/reviews?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as {
        items: { id: string; releaseStatus: string; downloadUrl: string }[];
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) expect(item.releaseStatus).toBe("pending_review");
      all.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).toContain(version.id);
    expect(new Set(all).size).toBe(all.length);
    for (const token of [tokens.ownerWrite, tokens.adminWrite]) {
      const response = await call(reviewsRoute.GET, { token });
      expect(((await response.json()) as { items: unknown[] }).items).toEqual([]);
    }
  });

  it("leaves out versions the admin produced (four eyes), and pages past them one at a time", async () => {
    const [first, own, last] = [await pendingVersion(), await pendingVersion(), await pendingVersion()];
    await db().update(imageVersions).set({ createdById: admin.id }).where(eq(imageVersions.id, own.id));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response: Response = await call(reviewsRoute.GET, {
        token: tokens.adminAdmin,
        path: `/api/v1/reviews?limit=1${cursor ? `&cursor=${cursor}` : ""}`,
      });
      const page = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toContain(first.id);
    expect(seen).toContain(last.id);
    expect(seen).not.toContain(own.id);
    expect(seen.indexOf(first.id)).toBeLessThan(seen.indexOf(last.id));
    // The list and the decision are one rule: approving what the list left out is refused.
    expect((await release(own.id, tokens.adminAdmin, { action: "approve" })).status).toBe(403);
    expect(await statusOf(own.id)).toBe("pending_review");
  });

  it("refuses approval by a non-reviewer and changes nothing; an admin approves, and the change is listed", async () => {
    const version = await pendingVersion();
    const byOwner = await release(version.id, tokens.ownerWrite, { action: "approve" });
    expect(byOwner.status).toBe(403);
    expect(await statusOf(version.id)).toBe("pending_review");
    // An admin's write token carries no admin power: the admin is an outsider to the project then.
    expect((await release(version.id, tokens.adminWrite, { action: "approve" })).status).toBe(404);
    expect((await release(version.id, tokens.outsiderWrite, { action: "approve" })).status).toBe(404);
    expect((await release(version.id, tokens.adminAdmin, { action: "approve", extra: 1 })).status).toBe(400);
    expect((await release(version.id, tokens.adminAdmin, { action: "publish" })).status).toBe(400);
    expect(await statusOf(version.id)).toBe("pending_review");

    const approved = await release(version.id, tokens.adminAdmin, { action: "approve" });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ id: version.id, releaseStatus: "approved", scheduledFor: null });
    expect((await release(version.id, tokens.adminAdmin, { action: "approve" })).status).toBe(409);

    const changes = await call(changesRoute.GET, { params: { id: version.id }, token: tokens.ownerRead });
    expect(changes.status).toBe(200);
    const listed = (await changes.json()) as {
      items: { action: string; fromStatus: string; toStatus: string; actor: { id: string } }[];
    };
    expect(listed.items[0]).toMatchObject({
      action: "approve",
      fromStatus: "pending_review",
      toStatus: "approved",
      actor: { id: admin.id },
    });
    expect((await call(changesRoute.GET, { params: { id: version.id }, token: tokens.outsiderWrite })).status).toBe(
      404,
    );
  });

  it("refuses a reject without a reason with fields.reason, and rejects with one", async () => {
    const version = await pendingVersion();
    const bare = await release(version.id, tokens.adminAdmin, { action: "reject" });
    expect(bare.status).toBe(400);
    expect((await errorOf(bare)).fields?.reason).toBeDefined();
    expect(await statusOf(version.id)).toBe("pending_review");
    const rejected = await release(version.id, tokens.adminAdmin, { action: "reject", reason: "Missing updates." });
    expect(rejected.status).toBe(200);
    expect(((await rejected.json()) as { releaseStatus: string }).releaseStatus).toBe("rejected");
    const changes = await call(changesRoute.GET, {
      params: { id: version.id },
      token: tokens.ownerRead,
      path: "/api/v1/x?limit=1",
    });
    const page = (await changes.json()) as { items: { action: string; reason: string }[]; nextCursor: string | null };
    expect(page.items).toEqual([expect.objectContaining({ action: "reject", reason: "Missing updates." })]);
  });
});
