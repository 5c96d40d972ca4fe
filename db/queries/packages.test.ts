// Package search, the catalog's "contains package" filter and the package diff on the real
// database: hidden versions never come back, conditions follow dpkg and rpm (epochs, tildes,
// missing releases), unfinished scans and unready versions are left out, and the diff sorts
// every change into its category.
import { randomBytes } from "node:crypto";
import { writeTestScan } from "@/tests/fixtures";
import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import type { PackageScheme } from "@/db/enums";
import { blobs, contentScans, imageVersions } from "@/db/schema";
import type { ContentPackage } from "@/lib/content/types";
import { parsePackageCondition, type PackageCondition } from "@/lib/validations/packages";
import { createTestImage, createTestProject, createTestUser, unique, viewerOf } from "@/tests/fixtures";
import {
  diffPackages,
  getVersionSbomSource,
  imagesContainingPackageCondition,
  replaceScanPackages,
  searchPackageVersions,
} from "./packages";
import type { Viewer } from "./users";

let member: Viewer;
let stranger: Viewer;
let admin: Viewer;
/** A package name no other test file uses, so searches see only this file's rows. */
const ssl = unique("openssl");
const versions: Record<string, string> = {};
const shas: Record<string, string> = {};

function pkg(name: string, version: string, arch = "amd64"): ContentPackage {
  const colon = version.indexOf(":");
  const epoch = colon >= 0 ? Number(version.slice(0, colon)) : 0;
  const rest = colon >= 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf("-");
  return {
    name,
    version,
    epoch,
    upstreamVersion: dash >= 0 ? rest.slice(0, dash) : rest,
    release: dash >= 0 ? rest.slice(dash + 1) : "",
    arch,
  };
}

async function versionIdsOf(imageId: string) {
  const rows = await db()
    .select({ id: imageVersions.id, version: imageVersions.version, sha256: imageVersions.sha256 })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, imageId));
  return Object.fromEntries(rows.map((row) => [row.version, { id: row.id, sha256: row.sha256! }]));
}

async function scan(
  sha256: string,
  scheme: PackageScheme,
  packages: ContentPackage[],
  status: "succeeded" | "running" = "succeeded",
) {
  await writeTestScan({
    sha256,
    status,
    osFound: true,
    distro: scheme === "rpm" ? "rocky" : "debian",
    osVersion: "12",
  });
  await replaceScanPackages({ scanSha256: sha256, scheme, packages });
}

async function standalone(
  scheme: PackageScheme,
  packages: ContentPackage[],
  status: "succeeded" | "running" = "succeeded",
) {
  const sha256 = randomBytes(32).toString("hex");
  await db()
    .insert(blobs)
    .values({ sha256, sha512: randomBytes(64).toString("hex"), size: 1 });
  await scan(sha256, scheme, packages, status);
  return sha256;
}

const condition = (text: string): PackageCondition => {
  const parsed = parsePackageCondition(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed;
};

async function found(viewer: Viewer, text: string) {
  const { rows } = await searchPackageVersions({ viewer, condition: condition(text), limit: 100 });
  return rows.map((row) => `${row.imageSlug.split("-")[0]}/${row.version}:${row.packageVersion}`).sort();
}

beforeAll(async () => {
  member = await createTestUser();
  stranger = await createTestUser();
  admin = await createTestUser({ role: "admin" });
  const projectId = (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id;
  member = (await viewerOf(member.id))!;
  // Slugs start with a letter that says what they are, for readable expectations.
  const debImage = await createTestImage({
    projectId,
    slug: unique("deb"),
    visibility: "public",
    versions: [
      { version: "1", releaseStatus: "approved" },
      { version: "2", releaseStatus: "approved" },
      { version: "3", releaseStatus: "draft" },
    ],
  });
  const rpmImage = await createTestImage({
    projectId,
    slug: unique("rpm"),
    visibility: "public",
    versions: [{ version: "1", releaseStatus: "approved" }],
  });
  const privateImage = await createTestImage({
    projectId,
    slug: unique("private"),
    visibility: "private",
    versions: [{ version: "1", releaseStatus: "approved" }],
  });
  for (const [label, imageId] of [
    ["deb", debImage.id],
    ["rpm", rpmImage.id],
    ["private", privateImage.id],
  ] as const) {
    for (const [version, { id, sha256 }] of Object.entries(await versionIdsOf(imageId))) {
      versions[`${label}/${version}`] = id;
      shas[`${label}/${version}`] = sha256;
    }
  }
  await scan(shas["deb/1"]!, "deb", [pkg(ssl, "3.0.11-1~deb12u2"), pkg("libc6", "2.36-9+deb12u4")]);
  await scan(shas["deb/2"]!, "deb", [pkg(ssl, "3.0.14-1"), pkg(ssl, "3.0.14-1", "i386")]);
  await scan(shas["deb/3"]!, "deb", [pkg(ssl, "3.0.15-1")]);
  await scan(shas["rpm/1"]!, "rpm", [pkg(ssl, "1:3.0.7-27.el9", "x86_64")]);
  await scan(shas["private/1"]!, "deb", [pkg(ssl, "3.0.9-1")]);
});

describe("searchPackageVersions", () => {
  it("returns only versions the viewer may see: released versions of images they see, everything in their project", async () => {
    expect(await found(stranger, ssl)).toEqual([
      "deb/1:3.0.11-1~deb12u2",
      "deb/2:3.0.14-1",
      "deb/2:3.0.14-1",
      "rpm/1:1:3.0.7-27.el9",
    ]);
    expect(await found(member, ssl)).toEqual([
      "deb/1:3.0.11-1~deb12u2",
      "deb/2:3.0.14-1",
      "deb/2:3.0.14-1",
      "deb/3:3.0.15-1",
      "private/1:3.0.9-1",
      "rpm/1:1:3.0.7-27.el9",
    ]);
    expect(await found(admin, ssl)).toEqual(await found(member, ssl));
  });

  it("compares with dpkg's rules for deb (tildes, missing revisions) and rpm's for rpm (epochs)", async () => {
    // The rpm package has epoch 1: it is newer than any epoch-0 bound.
    expect(await found(member, `${ssl} < 3.0.14`)).toEqual(["deb/1:3.0.11-1~deb12u2", "private/1:3.0.9-1"]);
    // '~' sorts before the end: 3.0.11-1~deb12u2 is older than 3.0.11-1.
    expect(await found(member, `${ssl} < 3.0.11-1`)).toEqual(["deb/1:3.0.11-1~deb12u2", "private/1:3.0.9-1"]);
    expect(await found(member, `${ssl} <= 3.0.11-1~deb12u2`)).toEqual(["deb/1:3.0.11-1~deb12u2", "private/1:3.0.9-1"]);
    expect(await found(member, `${ssl} > 3.0.11-1~deb12u2`)).toEqual([
      "deb/2:3.0.14-1",
      "deb/2:3.0.14-1",
      "deb/3:3.0.15-1",
      "rpm/1:1:3.0.7-27.el9",
    ]);
    // dpkg: no revision is revision "", so 3.0.14-1 is not = 3.0.14; rpm: no release compares the version only.
    expect(await found(member, `${ssl} = 3.0.14`)).toEqual([]);
    expect(await found(member, `${ssl} = 3.0.14-1`)).toEqual(["deb/2:3.0.14-1", "deb/2:3.0.14-1"]);
    expect(await found(member, `${ssl} = 1:3.0.7`)).toEqual(["rpm/1:1:3.0.7-27.el9"]);
    expect(await found(member, `${ssl} >= 1:3.0.7-28`)).toEqual([]);
    expect(await found(member, `${ssl} < 1:3.0.7-28`)).toEqual([
      "deb/1:3.0.11-1~deb12u2",
      "deb/2:3.0.14-1",
      "deb/2:3.0.14-1",
      "deb/3:3.0.15-1",
      "private/1:3.0.9-1",
      "rpm/1:1:3.0.7-27.el9",
    ]);
    expect(await found(stranger, `${ssl} >= 3.0.15`)).toEqual(["rpm/1:1:3.0.7-27.el9"]);
  });

  it("leaves out versions whose scan hasn't finished and versions that aren't ready", async () => {
    const extra = await createTestImage({
      projectId: (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id,
      slug: unique("extra"),
      visibility: "public",
      versions: [
        { version: "scanning", releaseStatus: "approved" },
        { version: "unready", releaseStatus: "approved" },
      ],
    });
    const ids = await versionIdsOf(extra.id);
    await scan(ids.scanning!.sha256, "deb", [pkg(ssl, "1.0-1")], "running");
    await scan(ids.unready!.sha256, "deb", [pkg(ssl, "1.0-1")]);
    await db().execute(sql`update image_versions set data_status = 'failed' where id = ${ids.unready!.id}`);
    expect(await found(admin, `${ssl} < 3.0.12`)).toEqual(["deb/1:3.0.11-1~deb12u2", "private/1:3.0.9-1"]);
  });

  it("answers the same when many package rows match (versions walked in page order and probed)", async () => {
    const conditions = [ssl, `${ssl} < 3.0.14`, `${ssl} >= 3.0.11-1~deb12u2`, `${ssl} = 1:3.0.7`, `${ssl} < 1:0`];
    const before = await Promise.all(
      conditions.flatMap((text) => [found(stranger, text), found(member, text), found(admin, text)]),
    );
    // More matching rows than the probe counts, in a scanned blob no version uses.
    const noise = (scheme: string) =>
      Array.from({ length: 1001 }, (_, index) =>
        pkg(ssl, scheme === "rpm" ? "1:3.0.0-1" : "3.0.0-1", `${scheme}${index}`),
      );
    await standalone("deb", noise("deb"));
    await standalone("rpm", noise("rpm"));
    const after = await Promise.all(
      conditions.flatMap((text) => [found(stranger, text), found(member, text), found(admin, text)]),
    );
    expect(after).toEqual(before);
    expect(before[0]!.length).toBeGreaterThan(0);
  });

  it("pages by keyset without repeating or skipping a row", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await searchPackageVersions({ viewer: member, condition: condition(ssl), cursor, limit: 2 });
      seen.push(...result.rows.map((row) => `${row.versionId}/${row.arch}`));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    await expect(
      searchPackageVersions({ viewer: member, condition: condition(ssl), cursor: "broken", limit: 2 }),
    ).rejects.toThrow(/page link is broken/);
  });
});

describe("imagesContainingPackageCondition", () => {
  async function images(viewer: Viewer, text: string) {
    const result = await db().execute<{ slug: string }>(
      sql`select i.slug from images i where ${imagesContainingPackageCondition(viewer, condition(text))} order by i.slug`,
    );
    return result.rows.map((row) => row.slug.split("-")[0]);
  }

  it("keeps images with a visible version containing the package", async () => {
    expect(await images(stranger, `${ssl} >= 3.0.15`)).toEqual(["rpm"]);
    expect(await images(member, `${ssl} >= 3.0.15`)).toEqual(["deb", "rpm"]);
    expect(await images(stranger, `${ssl} < 3.0.10`)).toEqual([]);
    expect(await images(member, `${ssl} < 3.0.10`)).toEqual(["private"]);
  });
});

describe("diffPackages", () => {
  it("sorts packages into added, removed, upgraded and downgraded by the scheme's ordering", async () => {
    const from = await standalone("deb", [
      pkg("a", "1.0-1"),
      pkg("b", "2.0-1"),
      pkg("c", "1:1.0-1"),
      pkg("d", "1.0"),
      pkg("linux-image", "6.1.0-1"),
      pkg("linux-image", "6.1.0-2"),
      pkg("multi", "1.0-1", "i386"),
      pkg("tilde", "1.0-1"),
    ]);
    const to = await standalone("deb", [
      pkg("a", "1.0-2"),
      pkg("b", "2.0~rc1-1"),
      pkg("c", "1:1.0-1"),
      pkg("e", "0.1-1"),
      pkg("linux-image", "6.1.0-2"),
      pkg("linux-image", "6.1.0-3"),
      pkg("multi", "1.0-1", "amd64"),
      pkg("tilde", "1.0-1~bpo1"),
    ]);
    const diff = (await diffPackages({ fromSha256: from, toSha256: to }))!;
    expect(diff.upgraded).toEqual([{ name: "a", arch: "amd64", from: "1.0-1", to: "1.0-2" }]);
    expect(diff.downgraded).toEqual([
      { name: "b", arch: "amd64", from: "2.0-1", to: "2.0~rc1-1" },
      { name: "tilde", arch: "amd64", from: "1.0-1", to: "1.0-1~bpo1" },
    ]);
    expect(diff.added.map((p) => `${p.name}:${p.arch}@${p.version}`)).toEqual([
      "e:amd64@0.1-1",
      "linux-image:amd64@6.1.0-3",
      "multi:amd64@1.0-1",
    ]);
    expect(diff.removed.map((p) => `${p.name}:${p.arch}@${p.version}`)).toEqual([
      "d:amd64@1.0",
      "linux-image:amd64@6.1.0-1",
      "multi:i386@1.0-1",
    ]);
    expect(diff.unchanged).toBe(2);
    const back = (await diffPackages({ fromSha256: to, toSha256: from }))!;
    expect(back.upgraded.map((p) => p.name)).toEqual(["b", "tilde"]);
    expect(back.downgraded.map((p) => p.name)).toEqual(["a"]);
  });

  it("orders rpm packages by rpm's rules (a caret is newer, an epoch wins)", async () => {
    const from = await standalone("rpm", [pkg("k", "1.0-1"), pkg("e", "2.0-1"), pkg("n", "1.9-1")]);
    const to = await standalone("rpm", [pkg("k", "1.0^git1-1"), pkg("e", "1:1.0-1"), pkg("n", "1.10-1")]);
    const diff = (await diffPackages({ fromSha256: from, toSha256: to }))!;
    expect(diff.upgraded.map((p) => p.name)).toEqual(["e", "k", "n"]);
    expect(diff.downgraded).toEqual([]);
  });

  it("is null while either side has no finished scan", async () => {
    const done = await standalone("deb", [pkg("a", "1")]);
    const running = await standalone("deb", [pkg("a", "2")], "running");
    expect(await diffPackages({ fromSha256: done, toSha256: running })).toBeNull();
    expect(await diffPackages({ fromSha256: done, toSha256: randomBytes(32).toString("hex") })).toBeNull();
  });
});

describe("replaceScanPackages", () => {
  it("replaces the list and keeps the count", async () => {
    const sha256 = await standalone("deb", [pkg("a", "1"), pkg("b", "1")]);
    await replaceScanPackages({ scanSha256: sha256, scheme: "deb", packages: [pkg("c", "1")] });
    const [row] = await db().select().from(contentScans).where(eq(contentScans.sha256, sha256));
    expect(row!.packageCount).toBe(1);
    const diff = (await diffPackages({ fromSha256: sha256, toSha256: sha256 }))!;
    expect(diff.unchanged).toBe(1);
  });
});

describe("getVersionSbomSource", () => {
  it("reads a visible version's scan and packages, and nothing of a hidden one", async () => {
    const source = (await getVersionSbomSource({ viewer: stranger, versionId: versions["rpm/1"]! }))!;
    expect(source.scan?.status).toBe("succeeded");
    expect(source.packages.map((p) => `${p.name}@${p.version}:${p.scheme}`)).toEqual([`${ssl}@1:3.0.7-27.el9:rpm`]);
    expect(await getVersionSbomSource({ viewer: stranger, versionId: versions["deb/3"]! })).toBeNull();
    expect(await getVersionSbomSource({ viewer: stranger, versionId: versions["private/1"]! })).toBeNull();
    expect(await getVersionSbomSource({ viewer: member, versionId: versions["private/1"]! })).not.toBeNull();
    expect(await getVersionSbomSource({ viewer: member, versionId: "not-a-uuid" })).toBeNull();
  });
});
