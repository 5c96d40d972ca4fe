import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { enablePublicFeed, revokeFeed, setImagePublishing, listAllFeeds } from "@/db/queries/feeds";
import { blobs, imageVersions } from "@/db/schema";
import { createTestImage, createTestProject, createTestUser } from "@/tests/fixtures";
import { platformSnippetsFor } from "./version-panel";

describe("the version page's Use it on…", () => {
  it("names the public feed for a public, published image while it is on, else the API download URL", async () => {
    const admin = await createTestUser({ role: "admin" });
    const projectId = (await createTestProject({ members: [] })).id;
    const image = await createTestImage({ projectId, visibility: "public", versions: [{ version: "4.2" }] });
    const [version] = await db()
      .select({ id: imageVersions.id, sha256: imageVersions.sha256 })
      .from(imageVersions)
      .where(eq(imageVersions.imageId, image.id));
    await db()
      .update(blobs)
      .set({ md5: sql`md5(${blobs.sha256})` })
      .where(eq(blobs.sha256, version!.sha256!));
    for (const feed of await listAllFeeds())
      if (feed.kind === "public" && !feed.revokedAt) await revokeFeed({ viewer: admin, id: feed.id });

    const unpublished = (await platformSnippetsFor({ viewer: admin, imageSlug: image.slug, versionId: version!.id }))!;
    expect(unpublished.viaPublicFeed).toBe(false);
    const curl = unpublished.snippets.find((snippet) => snippet.platform === "curl")!;
    expect(curl.code).toContain(`/api/v1/versions/${version!.id}/download`);
    expect(curl.code).toContain('-H "Authorization: Bearer $HANGAR_TOKEN"');
    expect(curl.code).toContain(`  ${image.slug}-4.2.qcow2' | sha256sum -c`);

    await setImagePublishing({ viewer: admin, imageId: image.id, published: true });
    const feed = await enablePublicFeed({ viewer: admin });
    const viaFeed = (await platformSnippetsFor({ viewer: admin, imageSlug: image.slug, versionId: version!.id }))!;
    expect(viaFeed.viaPublicFeed).toBe(true);
    expect(viaFeed.snippets.find((snippet) => snippet.platform === "curl")!.code).toContain(
      `/feeds/public/files/${version!.id}/`,
    );
    // Reading the feed for a page is not a platform's use.
    expect((await listAllFeeds()).find((row) => row.id === feed.id)!.useCount).toBe(0);
    await revokeFeed({ viewer: admin, id: feed.id });
  });
});
