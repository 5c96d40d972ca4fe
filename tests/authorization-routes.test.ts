// Every route handler × every kind of caller. The route handlers ask getViewer() who is calling;
// here that one function answers with a chosen real user from the real database (everything
// else, PostgreSQL and the queries included, is the real thing). The tus upload server is
// authenticated the way production does it: a real Auth.js session cookie.
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { failImport } from "@/db/queries/uploads";
import { finishBuild, queueBuild } from "@/db/queries/builds";
import { saveRecipe } from "@/db/queries/recipes";
import type { Viewer } from "@/db/queries/users";
import { replaceScanPackages } from "@/db/queries/packages";
import { bootTestLogs, bootTests, clones, imageVersions, recipeFiles, uploads, versionDiffs } from "@/db/schema";
import { viewerFromSessionCookie } from "@/lib/auth/session-cookie";
import { createUploadServer } from "@/lib/imports/tus";
import { GET as bootTestLog } from "@/app/api/boot-tests/[id]/log/route";
import { GET as buildEvents } from "@/app/api/builds/[id]/events/route";
import { GET as listClonesRoute } from "@/app/api/clones/route";
import { POST as uploadRecipeFile } from "@/app/api/recipe-files/route";
import { GET as suggestTagsRoute } from "@/app/api/tags/route";
import { GET as conversionsRoute } from "@/app/api/versions/[id]/conversions/route";
import { GET as download, HEAD as downloadHead } from "@/app/api/versions/[id]/download/route";
import { GET as lineageRoute } from "@/app/api/versions/[id]/lineage/route";
import { GET as sbomRoute } from "@/app/api/versions/[id]/sbom/route";
import { GET as statusRoute } from "@/app/api/versions/[id]/status/route";
import { GET as diffRoute } from "@/app/api/diffs/[id]/route";
import { createTestImage, unique, writeTestScan } from "./fixtures";
import {
  anyoneSignedIn,
  auditCount,
  callerNames,
  contributors,
  createWorld,
  imageWith,
  projectRoles,
  realVersion,
  type CallerName,
  type Expectation,
  type Outcome,
  type World,
} from "./authorization-world";

let current: Viewer | null = null;
vi.mock("@/lib/auth/session", () => ({ getViewer: async () => current }));

let world: World;
const httpStatus: Record<Outcome, number> = { ok: 200, unauthenticated: 401, not_found: 404, forbidden: 403 };
const as = (caller: CallerName) => {
  current = world.callers[caller];
};
const params = (id: string) => ({ params: Promise.resolve({ id }) });
const url = (path: string) => `http://hangar.test${path}`;

let privateVersion: { versionId: string; imageSlug: string };
let finishedBuildId: string;
let cloneId: string;
let diffId: string;
let bootTestId: string;

beforeAll(async () => {
  world = await createWorld();
  privateVersion = await realVersion(world, { projectId: world.project.id });
  const member = world.callers.member!;
  const base = await createTestImage({
    projectId: world.project.id,
    versions: [{ version: "1.1", releaseStatus: "approved" }],
  });
  const output = await createTestImage({ projectId: world.project.id, versions: [] });
  const recipe = await saveRecipe({
    viewer: member,
    projectId: world.project.id,
    document: {
      name: unique("recipe"),
      description: "",
      base: { image: base.slug, version: "1.1" },
      steps: [{ type: "write", path: "/etc/motd", content: "hi" }],
      output: { image: output.slug, format: "qcow2" },
    },
  });
  const queued = await queueBuild({ viewer: member, recipeId: recipe.recipeId, send: async () => "not-sent" });
  if (!queued.queued) throw new Error("expected a queued build");
  await finishBuild(queued.buildId, { status: "failed", failureReason: "authorization test" });
  finishedBuildId = queued.buildId;
  // A finished clone request of P, for the clone list (never picked up by a worker).
  const [clone] = await db()
    .insert(clones)
    .values({
      sourceVersionId: privateVersion.versionId,
      projectId: world.project.id,
      newImage: { slug: unique("c"), name: "c" },
      version: "1.0",
      mode: "linked",
      status: "failed",
      failureReason: "authorization test",
      requestedById: member.id,
    })
    .returning({ id: clones.id });
  cloneId = clone!.id;
  // A finished file diff of two versions of P (seen by those who see both).
  const [diff] = await db()
    .insert(versionDiffs)
    .values({
      fromVersionId: privateVersion.versionId,
      toVersionId: (await realVersion(world, { projectId: world.project.id })).versionId,
      status: "succeeded",
      files: [],
      requestedById: member.id,
    })
    .returning({ id: versionDiffs.id });
  diffId = diff!.id;
  // A finished boot test of the private version, with a console line that looks like markup.
  const [bootTest] = await db()
    .insert(bootTests)
    .values({
      versionId: privateVersion.versionId,
      status: "succeeded",
      result: "passed",
      successPattern: "<login prompt>",
      timeoutSeconds: 60,
    })
    .returning({ id: bootTests.id });
  bootTestId = bootTest!.id;
  await db().insert(bootTestLogs).values({ bootTestId, line: "<b>debian login:</b>" });
  // P's version has been inspected: its SBOM can be downloaded.
  await writeTestScan({
    sha256: world.blob.sha256,
    status: "succeeded",
    osFound: true,
    distro: "debian",
    osVersion: "12",
  });
  await replaceScanPackages({
    scanSha256: world.blob.sha256,
    scheme: "deb",
    packages: [
      { name: "openssl", version: "3.0.11-1", epoch: 0, upstreamVersion: "3.0.11", release: "1", arch: "amd64" },
    ],
  });
});

interface RouteCase {
  name: string;
  expected: Expectation;
  call: () => Promise<Response>;
  /** What a 200 must contain, beyond the status. */
  body?: (response: Response) => Promise<void>;
}

const routeCases: RouteCase[] = [
  {
    name: "GET /api/diffs/[id]",
    expected: projectRoles,
    call: () => diffRoute(new Request(url(`/api/diffs/${diffId}`)), params(diffId)),
    body: async (response) =>
      expect(await response.json()).toMatchObject({ id: diffId, status: "succeeded", files: [] }),
  },
  {
    name: "GET /api/versions/[id]/download",
    expected: projectRoles,
    call: () =>
      download(
        new Request(url(`/api/versions/${privateVersion.versionId}/download`)),
        params(privateVersion.versionId),
      ),
    body: async (response) => expect((await response.arrayBuffer()).byteLength).toBe(world.blob.size),
  },
  {
    name: "HEAD /api/versions/[id]/download",
    expected: projectRoles,
    call: () =>
      downloadHead(
        new Request(url(`/api/versions/${privateVersion.versionId}/download`), { method: "HEAD" }),
        params(privateVersion.versionId),
      ),
    body: async (response) => expect(response.headers.get("content-length")).toBe(String(world.blob.size)),
  },
  {
    name: "GET /api/versions/[id]/conversions",
    expected: projectRoles,
    call: () =>
      conversionsRoute(
        new Request(url(`/api/versions/${privateVersion.versionId}/conversions`)),
        params(privateVersion.versionId),
      ),
    body: async (response) => expect(await response.json()).toEqual({ conversions: [] }),
  },
  {
    name: "GET /api/versions/[id]/lineage",
    expected: projectRoles,
    call: () =>
      lineageRoute(
        new Request(url(`/api/versions/${privateVersion.versionId}/lineage`)),
        params(privateVersion.versionId),
      ),
    body: async (response) => expect((await response.json()).ancestry).toEqual([privateVersion.versionId]),
  },
  {
    name: "GET /api/versions/[id]/sbom",
    expected: projectRoles,
    call: () =>
      sbomRoute(
        new Request(url(`/api/versions/${privateVersion.versionId}/sbom?format=spdx`)),
        params(privateVersion.versionId),
      ),
    body: async (response) => expect((await response.json()).packages).toHaveLength(2),
  },
  {
    name: "GET /api/versions/[id]/status",
    expected: projectRoles,
    call: () =>
      statusRoute(
        new Request(url(`/api/versions/${privateVersion.versionId}/status`)),
        params(privateVersion.versionId),
      ),
    body: async (response) =>
      expect(await response.json()).toMatchObject({ id: privateVersion.versionId, dataStatus: "ready" }),
  },
  {
    name: "GET /api/boot-tests/[id]/log",
    expected: projectRoles,
    call: () => bootTestLog(new Request(url(`/api/boot-tests/${bootTestId}/log?after=0`)), params(bootTestId)),
    body: async (response) => {
      expect(response.headers.get("content-type")).toMatch(/application\/json/);
      const body = await response.json();
      expect(body.test).toMatchObject({ id: bootTestId, status: "succeeded", result: "passed" });
      expect(body.test.projectId).toBeUndefined();
      expect(body.lines.map((line: { line: string }) => line.line)).toEqual(["<b>debian login:</b>"]);
    },
  },
  {
    name: "GET /api/builds/[id]/events (SSE)",
    expected: projectRoles,
    call: () => buildEvents(new Request(url(`/api/builds/${finishedBuildId}/events`)), params(finishedBuildId)),
    body: async (response) => {
      expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
      expect(await response.text()).toMatch(/event: end\ndata: \{"status":"failed"\}/);
    },
  },
  {
    name: "GET /api/clones?projectId=P",
    // Everyone signed in gets a list; only P's members and admins find P's clone in it (below).
    expected: anyoneSignedIn,
    call: () => listClonesRoute(new Request(url(`/api/clones?projectId=${world.project.id}`))),
  },
  {
    name: "GET /api/tags",
    expected: anyoneSignedIn,
    call: () => suggestTagsRoute(new NextRequest(url("/api/tags?prefix=a"))),
    body: async (response) => expect(Array.isArray((await response.json()).tags)).toBe(true),
  },
];

describe("every read route × every caller", () => {
  const cells = routeCases.flatMap((entry) =>
    callerNames.map((caller) => [entry.name, caller, entry.expected[caller], entry] as const),
  );
  it.each(cells)("%s by %s: %s", async (_name, caller, outcome, entry) => {
    as(caller);
    const audit = await auditCount();
    const response = await entry.call();
    expect(response.status).toBe(httpStatus[outcome]);
    if (outcome === "ok") await entry.body?.(response);
    else await response.body?.cancel();
    // Reads never write.
    expect(await auditCount()).toBe(audit);
  });

  it.each(callerNames.filter((caller) => caller !== "anonymous"))(
    "GET /api/clones lists P's clone to %s only if they may see P",
    async (caller) => {
      as(caller);
      const { clones: listed } = (await (
        await listClonesRoute(new Request(url(`/api/clones?projectId=${world.project.id}`)))
      ).json()) as { clones: { id: string }[] };
      const sees = projectRoles[caller] === "ok";
      expect(listed.map((clone) => clone.id)).toEqual(sees ? [cloneId] : []);
      // Asked for by id, without the project: the same answer.
      const byId = (await (await listClonesRoute(new Request(url(`/api/clones?ids=${cloneId}`)))).json()) as {
        clones: { id: string }[];
      };
      expect(byId.clones.map((clone) => clone.id)).toEqual(sees ? [cloneId] : []);
    },
  );
});

describe("downloads of disabled and revoked versions: admins only", () => {
  const adminOnly: Expectation = {
    anonymous: "unauthenticated",
    viewer: "not_found",
    member: "not_found",
    owner: "not_found",
    "other member": "not_found",
    "other owner": "not_found",
    admin: "ok",
  };
  const retired: Record<string, string> = {};
  beforeAll(async () => {
    for (const status of ["disabled", "revoked"] as const)
      retired[status] = (
        await realVersion(world, { projectId: world.project.id, releaseStatus: status, visibility: "public" })
      ).versionId;
  });
  const cells = (["disabled", "revoked"] as const).flatMap((status) =>
    callerNames.map((caller) => [status, caller, adminOnly[caller]] as const),
  );
  it.each(cells)("a %s version by %s: %s", async (status, caller, outcome) => {
    as(caller);
    const versionId = retired[status]!;
    const response = await download(new Request(url(`/api/versions/${versionId}/download`)), params(versionId));
    expect(response.status).toBe(httpStatus[outcome]);
    if (outcome === "ok") expect((await response.arrayBuffer()).byteLength).toBe(world.blob.size);
    const conversions = await conversionsRoute(
      new Request(url(`/api/versions/${versionId}/conversions`)),
      params(versionId),
    );
    expect(conversions.status).toBe(httpStatus[outcome]);
  });
});

describe("a public image's draft through the routes", () => {
  let draft: string;
  beforeAll(async () => {
    draft = (await imageWith(world.project.id, ["draft"], "public")).versions[0]!;
  });
  it.each(callerNames.map((caller) => [caller, projectRoles[caller]] as const))(
    "%s: %s for its status, lineage and download",
    async (caller, outcome) => {
      as(caller);
      for (const route of [statusRoute, lineageRoute, conversionsRoute]) {
        const response = await route(new Request(url(`/api/versions/${draft}`)), params(draft));
        expect(response.status).toBe(httpStatus[outcome]);
      }
      // Its bytes are not in the store (a fixture), so even allowed callers can't get a 200 here: only refusals are checked.
      if (outcome !== "ok")
        expect((await download(new Request(url(`/api/versions/${draft}/download`)), params(draft))).status).toBe(
          httpStatus[outcome],
        );
    },
  );
});

describe("POST /api/recipe-files × every caller", () => {
  const recipeFileRows = () => db().select().from(recipeFiles).where(eq(recipeFiles.projectId, world.project.id));
  it.each(callerNames.map((caller) => [caller, contributors[caller]] as const))("%s: %s", async (caller, outcome) => {
    as(caller);
    const before = { rows: await recipeFileRows(), audit: await auditCount() };
    const content = randomBytes(64);
    const response = await uploadRecipeFile(
      new Request(url(`/api/recipe-files?projectId=${world.project.id}&filename=app.conf`), {
        method: "POST",
        body: content,
        headers: { "content-length": String(content.length) },
      }),
    );
    const after = { rows: await recipeFileRows(), audit: await auditCount() };
    if (outcome === "ok") {
      expect(response.status).toBe(201);
      expect(after.rows.length).toBe(before.rows.length + 1);
      expect(after.audit).toBe(before.audit + 1);
    } else {
      expect(response.status).toBe(httpStatus[outcome]);
      expect(after).toEqual(before);
    }
  });
});

describe("tus uploads × every caller, authenticated by the session cookie", () => {
  const secret = "authorization-test-secret-0123456789abcdef";
  const cookieName = "authjs.session-token";
  const { handle } = createUploadServer({
    viewerOf: (request) => viewerFromSessionCookie({ headers: request.headers, secret }),
  });
  const cookies = new Map<CallerName, string>();
  let imageId: string;
  let membersUpload: string;
  const authUrl = process.env.AUTH_URL;
  const tus = (caller: CallerName, extra: Record<string, string> = {}) => ({
    "Tus-Resumable": "1.0.0",
    ...(cookies.get(caller) ? { cookie: cookies.get(caller)! } : {}),
    ...extra,
  });
  const metadata = (fields: Record<string, string>) =>
    Object.entries(fields)
      .map(([key, value]) => `${key} ${Buffer.from(value).toString("base64")}`)
      .join(",");
  const create = (caller: CallerName) =>
    handle(
      new Request(url("/api/uploads"), {
        method: "POST",
        headers: tus(caller, {
          "Upload-Length": "4096",
          "Upload-Metadata": metadata({ imageId, version: unique("v") }),
        }),
      }),
    );
  const imageVersionRows = () => db().select().from(imageVersions).where(eq(imageVersions.imageId, imageId));

  beforeAll(async () => {
    delete process.env.AUTH_URL;
    for (const caller of callerNames) {
      const viewer = world.callers[caller];
      if (viewer)
        cookies.set(
          caller,
          `${cookieName}=${await encode({ token: { uid: viewer.id, sub: viewer.id }, secret, salt: cookieName })}`,
        );
    }
    imageId = (await imageWith(world.project.id, [])).id;
    const response = await create("member");
    membersUpload = response.headers.get("location")!.split("/").pop()!;
  });

  afterAll(async () => {
    if (authUrl !== undefined) process.env.AUTH_URL = authUrl;
    for (const upload of await db()
      .select({ id: uploads.id, versionId: uploads.versionId })
      .from(uploads)
      .where(and(eq(uploads.projectId, world.project.id), eq(uploads.status, "active")))) {
      await failImport({
        versionId: upload.versionId,
        uploadId: upload.id,
        actorId: null,
        reason: "authorization test",
        status: "cancelled",
      });
    }
  });

  it.each(callerNames.map((caller) => [caller, contributors[caller]] as const))(
    "creating an upload for P's image as %s: %s",
    async (caller, outcome) => {
      const before = { rows: await imageVersionRows(), audit: await auditCount() };
      const response = await create(caller);
      await response.body?.cancel();
      const after = { rows: await imageVersionRows(), audit: await auditCount() };
      if (outcome === "ok") {
        expect(response.status).toBe(201);
        expect(after.rows.length).toBe(before.rows.length + 1);
      } else {
        expect(response.status).toBe(httpStatus[outcome]);
        expect(after).toEqual(before);
      }
    },
  );

  // An upload session is its creator's alone: even an admin gets a 404 for someone else's.
  const creatorOnly: Expectation = {
    anonymous: "unauthenticated",
    viewer: "not_found",
    member: "ok",
    owner: "not_found",
    "other member": "not_found",
    "other owner": "not_found",
    admin: "not_found",
  };
  it.each(callerNames.map((caller) => [caller, creatorOnly[caller]] as const))(
    "HEAD, PATCH and DELETE on the member's upload as %s: %s",
    async (caller, outcome) => {
      const row = async () => db().select().from(uploads).where(eq(uploads.id, membersUpload));
      const storedOffset = async () =>
        Number(
          (
            await handle(new Request(url(`/api/uploads/${membersUpload}`), { method: "HEAD", headers: tus("member") }))
          ).headers.get("upload-offset"),
        );
      const before = { row: await row(), offset: await storedOffset() };
      const headResponse = await handle(
        new Request(url(`/api/uploads/${membersUpload}`), { method: "HEAD", headers: tus(caller) }),
      );
      const offset = Number(headResponse.headers.get("upload-offset") ?? before.offset);
      const patchResponse = await handle(
        new Request(url(`/api/uploads/${membersUpload}`), {
          method: "PATCH",
          headers: tus(caller, { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }),
          body: new Uint8Array(16),
        }),
      );
      await patchResponse.body?.cancel();
      if (outcome === "ok") {
        expect(headResponse.status).toBe(200);
        expect(patchResponse.status).toBe(204);
        expect(await storedOffset()).toBe(before.offset + 16);
        // The progress write is fire-and-forget; let it land before the next cell takes its snapshot.
        await vi.waitFor(async () => expect((await row())[0]!.receivedBytes).toBe(before.offset + 16));
      } else {
        // Terminating it is refused the same way (the creator's own DELETE would end it for the cells after).
        const deleteResponse = await handle(
          new Request(url(`/api/uploads/${membersUpload}`), { method: "DELETE", headers: tus(caller) }),
        );
        expect([headResponse.status, patchResponse.status, deleteResponse.status]).toEqual([
          httpStatus[outcome],
          httpStatus[outcome],
          httpStatus[outcome],
        ]);
        expect({ row: await row(), offset: await storedOffset() }).toEqual(before);
      }
    },
  );
});
