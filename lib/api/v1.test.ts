// The first /api/v1 routes, called as Next calls them, with real tokens on the real database.
import { writeFile, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { blobs, imageVersions } from "@/db/schema";
import { listImageVersions } from "@/db/queries/images";
import { createTestImage, createTestProject, createTestUser, storeTestBlob } from "@/tests/fixtures";
import { issueApiToken } from "./tokens";

vi.mock("@/lib/auth/session", () => ({ getViewer: async () => null }));

const { GET: lookup } = await import("@/app/api/v1/images/[slug]/channels/[channel]/route");
const { GET: download } = await import("@/app/api/v1/versions/[id]/download/route");

const call = <P>(
  handler: (request: Request, context: { params: Promise<P> }) => Promise<Response>,
  params: P,
  token?: string,
  headers: Record<string, string> = {},
) =>
  handler(
    new Request("http://hangar.test/api/v1/x", {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    }),
    { params: Promise.resolve(params) },
  );

let slug: string;
let secret: string;
let outsiderSecret: string;
let content: Buffer;
let versionId: string;

beforeAll(async () => {
  const owner = await createTestUser();
  const outsider = await createTestUser();
  const project = await createTestProject({ members: [{ viewer: owner, role: "owner" }] });
  const image = await createTestImage({
    projectId: project.id,
    versions: [{ version: "1.0" }, { version: "1.1" }, { version: "1.2", releaseStatus: "pending_review" }],
  });
  slug = image.slug;
  content = randomBytes(300_000);
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "hangar-v1-")), "disk.raw");
  await writeFile(file, content);
  const hashes = await storeTestBlob(file);
  await db()
    .insert(blobs)
    .values({ sha256: hashes.sha256, sha512: hashes.sha512, size: hashes.size })
    .onConflictDoNothing();
  const versions = await listImageVersions({ viewer: owner, imageId: image.id });
  versionId = versions.find((entry) => entry.version === "1.1")!.id;
  await db()
    .update(imageVersions)
    .set({ sha256: hashes.sha256, fileSize: hashes.size, format: "raw" })
    .where(eq(imageVersions.id, versionId));
  secret = (
    await issueApiToken({
      userId: owner.id,
      projectId: null,
      projectRole: null,
      name: "r",
      scope: "read",
      expiresAt: null,
    })
  ).secret;
  outsiderSecret = (
    await issueApiToken({
      userId: outsider.id,
      projectId: null,
      projectRole: null,
      name: "o",
      scope: "read",
      expiresAt: null,
    })
  ).secret;
});

describe("GET /api/v1/images/{slug}/channels/{channel}", () => {
  it("answers latest with the newest approved version and where to download it", async () => {
    const response = await call(lookup, { slug, channel: "latest" }, secret);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      version: { id: string; version: string; downloadUrl: string; sha256: string };
    };
    expect(body.version.version).toBe("1.1");
    expect(body.version.id).toBe(versionId);
    expect(body.version.downloadUrl).toMatch(new RegExp(`/api/v1/versions/${versionId}/download$`));
  });

  it("says what is missing: no token, an unknown channel, an image the caller can't see", async () => {
    const anonymous = await call(lookup, { slug, channel: "latest" });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { message: string } }).error.message).toMatch(/needs a token/);
    const unknown = await call(lookup, { slug, channel: "stable" }, secret);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(
      /no channel stable; its channels are latest/,
    );
    const hidden = await call(lookup, { slug, channel: "latest" }, outsiderSecret);
    expect(hidden.status).toBe(404);
  });
});

describe("GET /api/v1/versions/{id}/download", () => {
  it("serves the bytes with ETag and ranges to a token, and is a 404 to one that can't see the version", async () => {
    const full = await call(download, { id: versionId }, secret);
    expect(full.status).toBe(200);
    expect(Buffer.from(await full.arrayBuffer()).equals(content)).toBe(true);
    const etag = full.headers.get("etag")!;
    const part = await call(download, { id: versionId }, secret, { range: "bytes=1000-1999", "if-range": etag });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(content.subarray(1000, 2000))).toBe(true);
    expect((await call(download, { id: versionId }, outsiderSecret)).status).toBe(404);
    expect((await call(download, { id: versionId }, "hgr_nope")).status).toBe(401);
  });
});
