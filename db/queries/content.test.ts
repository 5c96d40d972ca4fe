// Content reads over rows written straight into content_scans / content_packages / boot_tests (the
// inspection and boot-test jobs are tested on real images elsewhere): who sees what, every scan
// state, the no-OS case, mismatches, the review queue's boot test and parent diff, and the
// catalog's detected-facts and contains-package filters.
import { randomUUID } from "node:crypto";
import { writeTestScan } from "@/tests/fixtures";
import { asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { bootTests, contentPackages, contentScans, imageVersions } from "@/db/schema";
import { createTestImage, createTestProject, createTestUser, unique } from "@/tests/fixtures";
import type { ContentFacts, ContentPackage } from "@/lib/content/types";
import { listCatalogImages, listCatalogVersions, type CatalogQuery } from "./catalog";
import { getImageDetectedFacts, getVersionContents, listReviewContents } from "./content";
import { listPendingReviews } from "./releases";
import type { Viewer } from "./users";

let admin: Viewer;
let member: Viewer;
let outsider: Viewer;
let marker: string;
/** A private image with three versions (1.1 parent of 1.2; 1.3 never scanned). */
let privateImage: { id: string; slug: string };
let privateVersions: { id: string; sha256: string; version: string }[];
/** A public image: 1.1 approved (a data disk, no OS), 1.2 pending review (hidden from outsiders). */
let publicImage: { id: string; slug: string };
let publicVersions: { id: string; sha256: string; version: string }[];

// Any byte string that sorts like the version works for these rows: the real encoder is lib/content/package-versions.ts.
const key = (version: string) => Buffer.from(version.padStart(12, "0"));

async function versionsOf(imageId: string) {
  const rows = await db()
    .select({ id: imageVersions.id, sha256: imageVersions.sha256, version: imageVersions.version })
    .from(imageVersions)
    .where(eq(imageVersions.imageId, imageId))
    .orderBy(asc(imageVersions.createdAt));
  return rows.map((row) => ({ id: row.id, sha256: row.sha256!, version: row.version }));
}

const debianFacts: Omit<ContentFacts, "packages"> = {
  osFound: true,
  noOsReason: null,
  osType: "linux",
  distro: "debian",
  productName: "Debian GNU/Linux 12 (bookworm)",
  osVersion: "12",
  arch: "x86_64",
  hostname: "bookworm",
  packageFormat: "deb",
  packageManager: "apt",
  initSystem: "systemd",
  kernels: ["6.1.0-18-amd64"],
  filesystems: [
    {
      device: "/dev/sda1",
      type: "ext4",
      label: "root",
      uuid: "0b5c6f1e-0000-4000-8000-000000000001",
      mountpoint: "/",
      size: 2_000_000_000,
      used: 600_000_000,
      free: 1_400_000_000,
    },
  ],
  loginUsers: ["root", "debian"],
  enabledServices: ["ssh.service", "cron.service"],
};

async function storeScan(
  sha256: string,
  facts: Omit<ContentFacts, "packages">,
  packages: ContentPackage[],
  distro?: string,
) {
  await writeTestScan({
    sha256,
    status: "succeeded",
    finishedAt: new Date(),
    ...facts,
    distro: distro ?? facts.distro,
    packageCount: packages.length,
  });
  if (packages.length)
    await db()
      .insert(contentPackages)
      .values(
        packages.map((pkg) => ({
          scanSha256: sha256,
          ...pkg,
          scheme: "deb" as const,
          sortKey: key(pkg.version),
        })),
      );
}

const pkg = (name: string, version: string, arch = "amd64"): ContentPackage => ({
  name,
  version,
  epoch: 0,
  upstreamVersion: version,
  release: "",
  arch,
});

beforeAll(async () => {
  admin = await createTestUser({ role: "admin" });
  member = await createTestUser();
  outsider = await createTestUser();
  marker = unique("content");
  const project = await createTestProject({ members: [{ viewer: member, role: "member" }] });
  // Typed as Ubuntu 24.04: the bytes say Debian 12, which the pages must point out.
  privateImage = await createTestImage({
    projectId: project.id,
    os: "Ubuntu",
    osVersion: "24.04",
    arch: "x86_64",
    tags: [marker],
    versions: [{ version: "1.1" }, { version: "1.2", releaseStatus: "pending_review" }, { version: "1.3" }],
  });
  privateVersions = await versionsOf(privateImage.id);
  publicImage = await createTestImage({
    projectId: project.id,
    os: "Debian",
    osVersion: "12",
    visibility: "public",
    tags: [marker],
    versions: [{ version: "1.1" }, { version: "1.2", releaseStatus: "pending_review" }],
  });
  publicVersions = await versionsOf(publicImage.id);
  const [v11, v12] = privateVersions;
  await db().update(imageVersions).set({ parentVersionId: v11!.id }).where(eq(imageVersions.id, v12!.id));

  const shared = `${marker}-shared`;
  await storeScan(v11!.sha256, debianFacts, [pkg("bash", "5.2.15-2"), pkg("openssl", "3.0.11-1"), pkg("vim", "9.0")]);
  await storeScan(v12!.sha256, debianFacts, [
    pkg("bash", "5.2.15-2"),
    pkg("openssl", "3.0.14-1"),
    pkg(shared, "1.0"),
    pkg("zlib1g", "1.2.13"),
    pkg("libc6", "2.36-9", "i386"),
  ]);
  await storeScan(
    publicVersions[0]!.sha256,
    {
      ...debianFacts,
      osFound: false,
      noOsReason: "no root filesystem with an operating system was found (a data disk?)",
      osType: null,
      distro: null,
      productName: null,
      osVersion: null,
      arch: null,
      hostname: null,
      packageFormat: null,
      packageManager: null,
      initSystem: null,
      kernels: [],
      loginUsers: [],
      enabledServices: [],
    },
    [],
  );
  // The pending public version: scanned (a differently named debian, aarch64) and holding the shared package, but outsiders can't see it.
  await storeScan(
    publicVersions[1]!.sha256,
    { ...debianFacts, arch: "aarch64" },
    [pkg(shared, "2.0", "arm64")],
    `debian-${marker}`,
  );
});

describe("getVersionContents", () => {
  it("returns a scanned version's facts, filesystems and sorted packages, with the mismatches against what was typed", async () => {
    const contents = await getVersionContents({ viewer: member, versionId: privateVersions[1]!.id });
    expect(contents).not.toBeNull();
    const scan = contents!.scan;
    expect(scan.status).toBe("succeeded");
    if (scan.status !== "succeeded") return;
    expect(scan.facts).toMatchObject({
      osFound: true,
      distro: "debian",
      osVersion: "12",
      arch: "x86_64",
      initSystem: "systemd",
      kernels: ["6.1.0-18-amd64"],
      loginUsers: ["root", "debian"],
      packageCount: 5,
    });
    expect(scan.facts.filesystems[0]).toMatchObject({ device: "/dev/sda1", type: "ext4", size: 2_000_000_000 });
    expect(contents!.packages.map((row) => row.name)).toEqual([
      "bash",
      `${marker}-shared`,
      "libc6",
      "openssl",
      "zlib1g",
    ]);
    expect(contents!.mismatches).toEqual([
      "The OS is given as Ubuntu 24.04, but Debian 12 was found inside the image.",
    ]);
    expect(contents!.parent).toMatchObject({ id: privateVersions[0]!.id, version: "1.1" });
    expect(contents!.previous).toMatchObject({ id: privateVersions[0]!.id, version: "1.1" });
  });

  it("says when a version has not been inspected, is waiting, or failed with its reason", async () => {
    // A version from before content scans (the start-up reconcile would queue one).
    await db().delete(contentScans).where(eq(contentScans.sha256, privateVersions[2]!.sha256));
    const unscanned = await getVersionContents({ viewer: member, versionId: privateVersions[2]!.id });
    expect(unscanned?.scan).toEqual({ status: "none" });
    expect(unscanned?.packages).toEqual([]);
    expect(unscanned?.mismatches).toEqual([]);

    const image = await createTestImage({
      projectId: (await createTestProject({ members: [{ viewer: member, role: "viewer" }] })).id,
      versions: [{}, {}],
    });
    const [queued, failed] = await versionsOf(image.id);
    await writeTestScan({ sha256: queued!.sha256, status: "running", startedAt: new Date() });
    await writeTestScan({
      sha256: failed!.sha256,
      status: "failed",
      failureReason: "The image's filesystem is corrupt: bad superblock.",
    });
    expect((await getVersionContents({ viewer: member, versionId: queued!.id }))?.scan.status).toBe("running");
    expect((await getVersionContents({ viewer: member, versionId: failed!.id }))?.scan).toEqual({
      status: "failed",
      reason: "The image's filesystem is corrupt: bad superblock.",
    });
  });

  it("says plainly that no OS was found in a data disk", async () => {
    const contents = await getVersionContents({ viewer: outsider, versionId: publicVersions[0]!.id });
    expect(contents?.scan.status).toBe("succeeded");
    if (contents?.scan.status !== "succeeded") return;
    expect(contents.scan.facts.osFound).toBe(false);
    expect(contents.scan.facts.noOsReason).toMatch(/data disk/);
    expect(contents.mismatches).toEqual([]);
  });

  it("reads a version the caller may not see exactly like a missing one", async () => {
    // Private image, outsider.
    expect(await getVersionContents({ viewer: outsider, versionId: privateVersions[1]!.id })).toBeNull();
    // Public image, but a version still pending review.
    expect(await getVersionContents({ viewer: outsider, versionId: publicVersions[1]!.id })).toBeNull();
    expect(await getVersionContents({ viewer: outsider, versionId: randomUUID() })).toBeNull();
    expect(await getVersionContents({ viewer: outsider, versionId: "not-a-uuid" })).toBeNull();
    // Admins and members see them.
    expect(await getVersionContents({ viewer: admin, versionId: privateVersions[1]!.id })).not.toBeNull();
    expect(await getVersionContents({ viewer: member, versionId: publicVersions[1]!.id })).not.toBeNull();
  });

  it("names as previous version only one the caller may see", async () => {
    // The member sees 1.1 before the pending 1.2; for an outsider nothing comes before 1.1.
    const forMember = await getVersionContents({ viewer: member, versionId: publicVersions[1]!.id });
    expect(forMember?.previous?.id).toBe(publicVersions[0]!.id);
    const first = await getVersionContents({ viewer: outsider, versionId: publicVersions[0]!.id });
    expect(first?.previous).toBeNull();
  });
});

describe("the review list's boot test", () => {
  it("is the newest boot test of each version, and none for an untested one", async () => {
    const v12 = privateVersions[1];
    await db()
      .insert(bootTests)
      .values([
        {
          versionId: v12!.id,
          status: "succeeded",
          result: "failed",
          successPattern: "login:",
          timeoutSeconds: 60,
          queuedAt: new Date(Date.now() - 60_000),
        },
        {
          versionId: v12!.id,
          status: "succeeded",
          result: "passed",
          successPattern: "login:",
          timeoutSeconds: 60,
          durationMs: 21_000,
          queuedAt: new Date(),
        },
      ]);
    const pending = await listPendingReviews();
    expect(pending.find((item) => item.id === v12!.id)?.bootTest).toMatchObject({
      status: "succeeded",
      result: "passed",
      durationMs: 21_000,
    });
    expect(pending.find((item) => item.id === publicVersions[1]!.id)?.bootTest).toBeNull();
  });
});

describe("getImageDetectedFacts", () => {
  it("reads the newest scanned version the caller may see", async () => {
    const forMember = await getImageDetectedFacts({ viewer: member, imageId: publicImage.id });
    expect(forMember?.version).toBe("1.2");
    expect(forMember?.mismatches).toEqual([
      "The architecture is given as x86_64, but the image holds aarch64 binaries.",
    ]);
    const forOutsider = await getImageDetectedFacts({ viewer: outsider, imageId: publicImage.id });
    expect(forOutsider?.version).toBe("1.1");
    expect(forOutsider?.facts.osFound).toBe(false);
    expect(await getImageDetectedFacts({ viewer: outsider, imageId: privateImage.id })).toBeNull();
  });
});

describe("listReviewContents", () => {
  it("diffs a pending version's packages against its parent", async () => {
    const contents = await listReviewContents({
      viewer: admin,
      versionIds: [privateVersions[1]!.id, publicVersions[1]!.id],
    });
    const review = contents.get(privateVersions[1]!.id);
    expect(review?.parent?.id).toBe(privateVersions[0]!.id);
    expect(review?.packageDiff).toMatchObject({
      added: [
        { name: `${marker}-shared`, arch: "amd64", version: "1.0" },
        { name: "libc6", arch: "i386", version: "2.36-9" },
        { name: "zlib1g", arch: "amd64", version: "1.2.13" },
      ],
      removed: [{ name: "vim", arch: "amd64", version: "9.0" }],
      upgraded: [{ name: "openssl", arch: "amd64", from: "3.0.11-1", to: "3.0.14-1" }],
      downgraded: [],
    });
    expect(review?.mismatches).toHaveLength(1);
    // No parent: no diff, and the arch contradiction is reported.
    const pub = contents.get(publicVersions[1]!.id);
    expect(pub?.parent).toBeNull();
    expect(pub?.packageDiff).toBeNull();
    expect(pub?.mismatches).toEqual(["The architecture is given as x86_64, but the image holds aarch64 binaries."]);
  });

  it("shows an outsider nothing of versions they may not see", async () => {
    const contents = await listReviewContents({ viewer: outsider, versionIds: [privateVersions[1]!.id] });
    expect(contents.size).toBe(0);
  });
});

describe("catalog filters on detected facts and packages", () => {
  const query = (viewer: Viewer, extra: Partial<CatalogQuery>): CatalogQuery => ({
    viewer,
    sort: "name",
    order: "asc",
    limit: 50,
    tag: marker,
    ...extra,
  });

  it("filters by detected distribution and architecture, among versions the caller may see", async () => {
    const debian = await listCatalogImages(query(member, { distro: "debian" }));
    expect(debian.rows.map((row) => row.id)).toEqual([privateImage.id]);
    const other = `debian-${marker}`;
    expect((await listCatalogImages(query(member, { distro: other }))).rows.map((row) => row.id)).toEqual([
      publicImage.id,
    ]);
    // That scan belongs to a pending version: outsiders don't find the image through it.
    expect((await listCatalogImages(query(outsider, { distro: other }))).rows).toEqual([]);
    expect((await listCatalogImages(query(member, { detectedArch: "aarch64" }))).rows.map((row) => row.id)).toEqual([
      publicImage.id,
    ]);
    const versions = await listCatalogVersions(query(member, { distro: "debian", detectedArch: "x86_64" }));
    expect(versions.rows.map((row) => row.id).sort()).toEqual([privateVersions[0]!.id, privateVersions[1]!.id].sort());
  });

  it("filters by a contained package, among versions the caller may see", async () => {
    const name = `${marker}-shared`;
    const forMember = await listCatalogImages(query(member, { containsPackage: { name } }));
    expect(forMember.rows.map((row) => row.id).sort()).toEqual([privateImage.id, publicImage.id].sort());
    const forOutsider = await listCatalogImages(query(outsider, { containsPackage: { name } }));
    expect(forOutsider.rows).toEqual([]);
    expect(
      (await listCatalogImages(query(member, { containsPackage: { name: "vim" } }))).rows.map((r) => r.id),
    ).toEqual([privateImage.id]);
  });
});
