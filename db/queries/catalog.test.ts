import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import { HangarError } from "@/lib/errors";
import { listVisibleTags } from "./images";
import type { Viewer } from "./users";
import {
  encodeCursor,
  getCatalogFacets,
  listCatalogImages,
  listCatalogVersions,
  type CatalogQuery,
  type CatalogSort,
  type SortOrder,
} from "./catalog";

let admin: Viewer;
let alice: Viewer;
let bob: Viewer;
let marker: string; // a tag unique to this file's images, to isolate them from other tests' data
let alicesProject: { id: string; slug: string };
let bobsProject: { id: string; slug: string };

const query = (viewer: Viewer, extra: Partial<CatalogQuery> = {}): CatalogQuery => ({
  viewer,
  sort: "name",
  order: "asc",
  limit: 50,
  tag: marker,
  ...extra,
});

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  alice = await createTestUser();
  bob = await createTestUser();
  marker = unique("cat");
  alicesProject = await createTestProject({ members: [{ viewer: alice, role: "member" }] });
  bobsProject = await createTestProject({ members: [{ viewer: bob, role: "owner" }] });
  await createTestImage({
    projectId: alicesProject.id,
    name: "Zebra appliance",
    description: "Load balancer with keepalived",
    os: "Alpine",
    osVersion: "3.20",
    arch: "aarch64",
    tags: [marker, "edge"],
    versions: [{ format: "raw", virtualSize: 10 }],
  });
  await createTestImage({
    projectId: alicesProject.id,
    name: "Debian bookworm base",
    os: "Debian",
    tags: [marker, "lts"],
    visibility: "public",
    versions: [
      { format: "qcow2", virtualSize: 300 },
      { format: "vmdk", virtualSize: 500, releaseStatus: "pending_review" },
    ],
  });
  await createTestImage({
    projectId: bobsProject.id,
    name: "Bob's secret runner",
    description: "private CI runner with credentials",
    tags: [marker, `jupyter-${marker}`],
    visibility: "private",
    versions: [{ virtualSize: 200 }],
  });
  await createTestImage({
    projectId: bobsProject.id,
    name: "Ubuntu noble server",
    os: "Ubuntu",
    osVersion: "24.04",
    tags: [marker, "lts"],
    visibility: "public",
    versions: [{ virtualSize: 400 }],
  });
});

const names = (rows: { name: string }[]) => rows.map((row) => row.name);

describe("catalog visibility", () => {
  it("shows a member public images and their own project's private ones, never another project's private image", async () => {
    const page = await listCatalogImages(query(alice));
    expect(names(page.rows)).toEqual(["Debian bookworm base", "Ubuntu noble server", "Zebra appliance"]);
  });

  it("shows the other member their own private image", async () => {
    const page = await listCatalogImages(query(bob));
    expect(names(page.rows)).toEqual(["Bob's secret runner", "Debian bookworm base", "Ubuntu noble server"]);
  });

  it("shows admins everything", async () => {
    const page = await listCatalogImages(query(admin));
    expect(page.rows).toHaveLength(4);
  });

  it("does not leak private images through search or the versions view", async () => {
    expect(await listCatalogImages(query(alice, { q: "secret" }))).toEqual({ rows: [], nextCursor: null });
    const versions = await listCatalogVersions(query(alice));
    expect(versions.rows.map((row) => row.imageName)).not.toContain("Bob's secret runner");
  });
});

describe("catalog search and filters", () => {
  it("finds images by name prefix, description word and tag", async () => {
    expect(names((await listCatalogImages(query(admin, { q: "book" }))).rows)).toEqual(["Debian bookworm base"]);
    expect(names((await listCatalogImages(query(admin, { q: "keepalived" }))).rows)).toEqual(["Zebra appliance"]);
    expect(names((await listCatalogImages(query(admin, { q: "edge" }))).rows)).toEqual(["Zebra appliance"]);
    expect(names((await listCatalogImages(query(admin, { q: "lts" }))).rows)).toEqual([
      "Debian bookworm base",
      "Ubuntu noble server",
    ]);
  });

  it("treats search punctuation as text, not query syntax", async () => {
    for (const q of ["'", "a & b", "foo:*", "!(x)", "\\", "%", "_"]) {
      await expect(listCatalogImages(query(admin, { q }))).resolves.toBeDefined();
    }
  });

  it("filters by OS, architecture, format, project and status", async () => {
    expect(names((await listCatalogImages(query(admin, { os: "Ubuntu" }))).rows)).toEqual(["Ubuntu noble server"]);
    expect(names((await listCatalogImages(query(admin, { arch: "aarch64" }))).rows)).toEqual(["Zebra appliance"]);
    expect(names((await listCatalogImages(query(admin, { format: "vmdk" }))).rows)).toEqual(["Debian bookworm base"]);
    expect(names((await listCatalogImages(query(admin, { project: bobsProject.slug }))).rows)).toEqual([
      "Bob's secret runner",
      "Ubuntu noble server",
    ]);
    expect(names((await listCatalogImages(query(admin, { status: "pending_review" }))).rows)).toEqual([
      "Debian bookworm base",
    ]);
  });

  it("shows the newest version's facts on each image", async () => {
    const [debian] = (await listCatalogImages(query(admin, { q: "bookworm" }))).rows;
    expect(debian).toMatchObject({
      latestVersion: "1.2",
      latestFormat: "vmdk",
      latestVirtualSize: 500,
      versionCount: 2,
    });
  });

  it("shows people outside the project the newest released version, never a newer draft or pending one", async () => {
    const [debian] = (await listCatalogImages(query(bob, { q: "bookworm" }))).rows;
    expect(debian).toMatchObject({
      latestVersion: "1.1",
      latestFormat: "qcow2",
      latestVirtualSize: 300,
      latestReleaseStatus: "approved",
      versionCount: 1,
    });
    expect(
      (await listCatalogImages(query(bob, { status: "pending_review" }))).rows.map((row) => row.name),
    ).not.toContain("Debian bookworm base");
    expect((await listCatalogImages(query(bob, { format: "vmdk" }))).rows.map((row) => row.name)).not.toContain(
      "Debian bookworm base",
    );
    const [insider] = (await listCatalogImages(query(alice, { q: "bookworm" }))).rows;
    expect(insider).toMatchObject({ latestVersion: "1.2", latestReleaseStatus: "pending_review", versionCount: 2 });
  });

  it("lists versions with version-level filters", async () => {
    const page = await listCatalogVersions(query(admin, { format: "qcow2", sort: "size", order: "desc" }));
    expect(page.rows.map((row) => [row.imageName, row.virtualSize])).toEqual([
      ["Ubuntu noble server", 400],
      ["Debian bookworm base", 300],
      ["Bob's secret runner", 200],
    ]);
  });

  it("offers facets from the data", async () => {
    const facets = await getCatalogFacets({ viewer: alice });
    expect(facets.oses).toEqual(expect.arrayContaining(["Alpine", "Debian", "Ubuntu"]));
    expect(facets.tags).toContain(marker);
    expect(facets.projects.map((project) => project.slug)).toEqual(
      expect.arrayContaining([alicesProject.slug, bobsProject.slug]),
    );
  });

  it("lists and suggests only the tags of images the viewer sees", async () => {
    const privateTag = `jupyter-${marker}`;
    expect((await getCatalogFacets({ viewer: alice })).tags).not.toContain(privateTag);
    expect(await listVisibleTags({ viewer: alice, prefix: "jupyter-", limit: 50 })).not.toContain(privateTag);
    expect(await listVisibleTags({ viewer: alice, prefix: marker, limit: 50 })).toEqual([marker]);
    for (const viewer of [bob, admin]) {
      expect((await getCatalogFacets({ viewer })).tags).toContain(privateTag);
      expect(await listVisibleTags({ viewer, prefix: "jupyter-", limit: 50 })).toContain(privateTag);
    }
  });

  it("suggests a tag once its private image is shared with, and accepted by, the viewer's project", async () => {
    const sharedTag = `gpu-${marker}`;
    const image = await createTestImage({ projectId: bobsProject.id, tags: [sharedTag], visibility: "shared" });
    expect(await listVisibleTags({ viewer: alice, prefix: sharedTag, limit: 50 })).toEqual([]);
    await db().execute(
      sql`insert into image_shares (image_id, project_id, status) values (${image.id}, ${alicesProject.id}, 'accepted')`,
    );
    expect(await listVisibleTags({ viewer: alice, prefix: sharedTag, limit: 50 })).toEqual([sharedTag]);
    // image_tags follows the array (a trigger): a removed tag is no longer the image's to show.
    await db().execute(sql`update images set tags = '{}' where id = ${image.id}`);
    expect(await listVisibleTags({ viewer: alice, prefix: sharedTag, limit: 50 })).toEqual([]);
    expect(await listVisibleTags({ viewer: admin, prefix: sharedTag, limit: 50 })).toEqual([]);
  });
});

// PostgreSQL's text search parser reads 16978e6c as 16978e6 + c and 3e8f1a2 (alone) as 3e8 + f1a2,
// but keeps 3e8f1a2 whole inside ci-runner-3e8f1a2: names like commit hashes went unfound.
describe("search for words the text search parser reads as numbers", () => {
  let hashMarker: string;
  // Random parts in letters only, so no random word can start like the numbers searched for.
  const uniqueLetters = (prefix: string) => unique(prefix).replace(/[0-9]/g, (digit) => "ghijklmnop"[Number(digit)]!);
  const found = async (q: string) => names((await listCatalogImages(query(admin, { q, tag: hashMarker }))).rows);

  beforeAll(async () => {
    hashMarker = uniqueLetters("hash");
    const project = await createTestProject();
    await createTestImage({
      projectId: project.id,
      slug: `ci-runner-3e8f1a2-${uniqueLetters("x")}`,
      name: "ci-runner-3e8f1a2",
      tags: [hashMarker],
    });
    await createTestImage({
      projectId: project.id,
      slug: `img-16978e6c-${uniqueLetters("x")}`,
      name: "16978e6c",
      osVersion: "12.5",
      tags: [hashMarker],
    });
    await createTestImage({
      projectId: project.id,
      slug: uniqueLetters("plain"),
      name: "Plain base",
      tags: [hashMarker, "build-1e10", "gpu"],
    });
  });

  it("finds an image by its whole name, by each word of it and by what has been typed so far", async () => {
    for (const q of ["ci-runner-3e8f1a2", "3e8f1a2", "3e8f", "3e8", "CI Runner", "runner 3e8f1a2"])
      expect(await found(q), q).toEqual(["ci-runner-3e8f1a2"]);
    for (const q of ["16978e6c", "16978e6", "16978e", "img-16978e6c", "12.5", "16978e6c 12.5"])
      expect(await found(q), q).toEqual(["16978e6c"]);
    for (const q of ["build-1e10", "1e10", "gpu 1e1"]) expect(await found(q), q).toEqual(["Plain base"]);
  });

  it("reads quotes, backslashes and tsquery operators as separators, never as syntax or SQL", async () => {
    expect(await found("ci-runner-3e8f1a2 & | ! : * ( ) ' \" \\ <-> %_;--")).toEqual(["ci-runner-3e8f1a2"]);
    expect(await found("'16978e6c':*")).toEqual(["16978e6c"]);
    expect(await found("!(16978e6c)")).toEqual(["16978e6c"]);
    for (const q of ["'", "''", "\\", "&&&", ":*", "!", "()", "<->", "' or 1=1 --"])
      expect(await found(q), q).toEqual([]);
  });

  it("does not match a word that is only part of a stored word's middle", async () => {
    expect(await found("f1a2")).toEqual([]);
    expect(await found("e6c")).toEqual([]);
  });
});

describe("search with many hits", () => {
  it("pages through thousands of matches in order, whichever way the search is planned", async () => {
    const word = unique("many").replace("-", "");
    const project = await createTestProject();
    await db().execute(sql`
      insert into images (slug, name, os, project_id, visibility, tags)
      select ${word} || '-' || n, ${word} || ' ' || lpad(n::text, 5, '0'), 'Debian', ${project.id}, 'public', array[${word}]
      from generate_series(1, 2100) n`);
    const walked: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 3; page += 1) {
      const result = await listCatalogImages(
        query(admin, { q: word, tag: undefined, sort: "name", order: "asc", limit: 1000, cursor }),
      );
      walked.push(...result.rows.map((row) => row.name));
      cursor = result.nextCursor ?? undefined;
    }
    expect(walked).toHaveLength(2100);
    expect(walked).toEqual([...walked].sort());
    expect(walked[0]).toBe(`${word} 00001`);
  });
});

describe("most used", () => {
  it("orders images by how many clones and builds used them", async () => {
    await db().execute(
      sql`update images set usage_count = case name when 'Ubuntu noble server' then 7 when 'Zebra appliance' then 3 else 0 end where ${marker} = any(tags)`,
    );
    const rows = (await listCatalogImages(query(admin, { sort: "usage", order: "desc" }))).rows;
    expect(rows.slice(0, 2).map((row) => [row.name, row.usageCount])).toEqual([
      ["Ubuntu noble server", 7],
      ["Zebra appliance", 3],
    ]);
  });
});

describe("keyset pagination", () => {
  const cases: [CatalogSort, SortOrder][] = [
    ["name", "asc"],
    ["name", "desc"],
    ["updated", "desc"],
    ["updated", "asc"],
    ["size", "desc"],
    ["size", "asc"],
    ["usage", "desc"],
    ["usage", "asc"],
  ];

  it.each(cases)("walks every image exactly once by %s %s", async (sort, order) => {
    const all = (await listCatalogImages(query(admin, { sort, order }))).rows.map((row) => row.id);
    const walked: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await listCatalogImages(query(admin, { sort, order, limit: 1, cursor }));
      walked.push(...result.rows.map((row) => row.id));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(walked).toEqual(all);
    expect(new Set(walked).size).toBe(4);
  });

  it.each(cases)("walks every version exactly once by %s %s", async (sort, order) => {
    const all = (await listCatalogVersions(query(admin, { sort, order }))).rows.map((row) => row.id);
    const walked: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await listCatalogVersions(query(admin, { sort, order, limit: 2, cursor }));
      walked.push(...result.rows.map((row) => row.id));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(walked).toEqual(all);
    expect(all).toHaveLength(5);
  });

  it("refuses a tampered cursor with a clear error", async () => {
    await expect(listCatalogImages(query(admin, { cursor: "not-a-cursor" }))).rejects.toThrow(HangarError);
    await expect(
      listCatalogImages(query(admin, { cursor: encodeCursor("x", "'; drop table images; --") })),
    ).rejects.toThrow(/page link is broken/);
  });
});
