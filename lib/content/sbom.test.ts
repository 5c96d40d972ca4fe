// SBOM export: package URLs as purl-spec writes them, both documents valid against the official
// schemas (CycloneDX 1.5 through the CycloneDX library's strict validator, SPDX 2.3 through ajv
// and the schema published with the spec, tests/schemas), and the download route on the real
// database: the documents, their file names, 404 for a hidden version, 409 before a finished scan.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "@/db/client";
import { replaceScanPackages, type SbomScan } from "@/db/queries/packages";
import type { Viewer } from "@/db/queries/users";
import { contentScans, imageVersions } from "@/db/schema";
import { createTestImage, createTestProject, createTestUser, viewerOf } from "@/tests/fixtures";
import { GET as sbomRoute } from "@/app/api/versions/[id]/sbom/route";
import { cycloneDxSbom, packageUrl, spdxSbom, type SbomInput, type SbomPackage } from "./sbom";

let current: Viewer | null = null;
vi.mock("@/lib/auth/session", () => ({ getViewer: async () => current }));

const spdxSchema = JSON.parse(
  readFileSync(path.join(process.cwd(), "tests/schemas/spdx-2.3.schema.json"), "utf8"),
) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateSpdx = ajv.compile(spdxSchema);

async function cycloneDxErrors(json: string) {
  return new Validation.JsonStrictValidator(Spec.Version.v1dot5).validate(json);
}

function spdxErrors(document: unknown) {
  return validateSpdx(document) ? null : validateSpdx.errors;
}

const debianScan: SbomScan = {
  status: "succeeded",
  failureReason: null,
  osFound: true,
  osType: "linux",
  distro: "debian",
  productName: "Debian GNU/Linux 12 (bookworm)",
  osVersion: "12",
  arch: "x86_64",
  packageFormat: "deb",
  filesystems: [],
  finishedAt: new Date(),
};

const deb = (name: string, version: string, arch = "amd64"): SbomPackage => {
  const [epoch, rest] = version.includes(":") ? version.split(":") : ["0", version];
  const dash = rest!.lastIndexOf("-");
  return {
    name,
    version,
    epoch: Number(epoch),
    upstreamVersion: dash >= 0 ? rest!.slice(0, dash) : rest!,
    release: dash >= 0 ? rest!.slice(dash + 1) : "",
    arch,
    scheme: "deb",
  };
};

const input: SbomInput = {
  versionId: "00000000-0000-4000-8000-000000000000",
  version: "1.0",
  imageSlug: "debian-12",
  imageName: "Debian 12",
  sha256: "a".repeat(64),
  scan: debianScan,
  packages: [
    deb("openssl", "3.0.11-1~deb12u2"),
    deb("libstdc++6", "12.2.0-14"),
    deb("libc6", "2.36-9+deb12u4"),
    deb("libc6", "2.36-9+deb12u4", "i386"),
    deb("base-files", "12.4+deb12u5"),
    deb("perl-base", "5.36.0-7+deb12u1"),
    deb("libgcc-s1", "12.2.0-14"),
    deb("debconf", "1.5.82", "all"),
    deb("dpkg", "1:1.21.22"),
  ],
};

describe("package URLs", () => {
  it("writes deb, rpm and apk package URLs the way purl-spec does", () => {
    expect(packageUrl(input.packages[0]!, debianScan)).toBe(
      "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
    );
    expect(packageUrl(input.packages[1]!, debianScan)).toBe(
      "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12",
    );
    const fedora = { ...debianScan, distro: "fedora", osVersion: "40" };
    expect(
      packageUrl(
        {
          name: "openssl",
          version: "1:3.2.1-2.fc40",
          epoch: 1,
          upstreamVersion: "3.2.1",
          release: "2.fc40",
          arch: "x86_64",
          scheme: "rpm",
        },
        fedora,
      ),
    ).toBe("pkg:rpm/fedora/openssl@3.2.1-2.fc40?arch=x86_64&distro=fedora-40&epoch=1");
    const alpine = { ...debianScan, distro: "alpinelinux", osVersion: "3.19" };
    expect(
      packageUrl(
        {
          name: "musl",
          version: "1.2.4-r2",
          epoch: 0,
          upstreamVersion: "1.2.4",
          release: "r2",
          arch: "x86_64",
          scheme: "apk",
        },
        alpine,
      ),
    ).toBe("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19");
  });
});

describe("CycloneDX 1.5", () => {
  it("is valid against the CycloneDX 1.5 schema, with the OS on top and every package under it", async () => {
    const json = cycloneDxSbom(input);
    expect(await cycloneDxErrors(json)).toBeNull();
    const bom = JSON.parse(json);
    expect(bom.specVersion).toBe("1.5");
    expect(bom.metadata.component).toMatchObject({ type: "operating-system", name: "debian", version: "12" });
    expect(bom.components).toHaveLength(input.packages.length);
    expect(bom.components.map((c: { purl: string }) => c.purl)).toContain(
      "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
    );
    const top = bom.dependencies.find((d: { ref: string }) => d.ref === bom.metadata.component["bom-ref"]);
    expect(top.dependsOn).toHaveLength(input.packages.length);
  });

  it("stays valid for a disk with no OS and for a package listed twice", async () => {
    const twice = { ...input, packages: [input.packages[0]!, input.packages[0]!] };
    expect(await cycloneDxErrors(cycloneDxSbom(twice))).toBeNull();
    const noOs = { ...input, scan: { ...debianScan, osFound: false, distro: null, osVersion: null }, packages: [] };
    const json = cycloneDxSbom(noOs);
    expect(await cycloneDxErrors(json)).toBeNull();
    expect(JSON.parse(json).metadata.component.type).toBe("file");
  });

  it("the validator refuses a broken document (so the checks above can fail)", async () => {
    const bom = JSON.parse(cycloneDxSbom(input));
    bom.components[0].type = "not-a-type";
    expect(await cycloneDxErrors(JSON.stringify(bom))).not.toBeNull();
  });
});

describe("SPDX 2.3", () => {
  it("is valid against the official SPDX 2.3 schema, describing the OS which contains every package", () => {
    const document = spdxSbom(input, { namespaceBase: "https://hangar.example.org/" }) as {
      spdxVersion: string;
      documentNamespace: string;
      packages: { SPDXID: string; externalRefs?: { referenceLocator: string }[] }[];
      relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
    };
    expect(spdxErrors(document)).toBeNull();
    expect(document.spdxVersion).toBe("SPDX-2.3");
    expect(document.documentNamespace).toMatch(/^https:\/\/hangar\.example\.org\/spdx\/debian-12-1\.0-[0-9a-f-]{36}$/);
    const ids = document.packages.map((p) => p.SPDXID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
    expect(document.relationships.filter((r) => r.relationshipType === "CONTAINS")).toHaveLength(input.packages.length);
    for (const relationship of document.relationships) {
      expect([...ids, "SPDXRef-DOCUMENT"]).toContain(relationship.relatedSpdxElement);
    }
    expect(document.packages.flatMap((p) => p.externalRefs ?? []).map((r) => r.referenceLocator)).toContain(
      "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12",
    );
  });

  it("the schema refuses a broken document (so the check above can fail)", () => {
    const document = spdxSbom(input, { namespaceBase: "https://hangar.example.org" }) as Record<string, unknown>;
    delete document.creationInfo;
    expect(spdxErrors(document)).not.toBeNull();
  });
});

describe("GET /api/versions/[id]/sbom", () => {
  let member: Viewer;
  let stranger: Viewer;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    member = await createTestUser();
    stranger = await createTestUser();
    const projectId = (await createTestProject({ members: [{ viewer: member, role: "member" }] })).id;
    member = (await viewerOf(member.id))!;
    const image = await createTestImage({
      projectId,
      slug: `sbom-${randomBytes(4).toString("hex")}`,
      visibility: "public",
      versions: [
        { version: "1.0", releaseStatus: "approved" },
        { version: "2.0", releaseStatus: "approved" },
        { version: "3.0", releaseStatus: "draft" },
      ],
    });
    const rows = await db()
      .select({ id: imageVersions.id, version: imageVersions.version, sha256: imageVersions.sha256 })
      .from(imageVersions)
      .where(eq(imageVersions.imageId, image.id));
    for (const row of rows) ids[row.version] = row.id;
    const sha = (version: string) => rows.find((row) => row.version === version)!.sha256!;
    for (const version of ["1.0", "3.0"]) {
      await db()
        .insert(contentScans)
        .values({
          sha256: sha(version),
          status: "succeeded",
          osFound: true,
          osType: "linux",
          distro: "debian",
          productName: "Debian GNU/Linux 12 (bookworm)",
          osVersion: "12",
          arch: "x86_64",
          finishedAt: new Date(),
        });
      await replaceScanPackages({ scanSha256: sha(version), scheme: "deb", packages: input.packages });
    }
    await db()
      .insert(contentScans)
      .values({ sha256: sha("2.0"), status: "running" });
  });

  const call = (versionId: string, query = "") =>
    sbomRoute(new Request(`http://hangar.test/api/versions/${versionId}/sbom${query}`), {
      params: Promise.resolve({ id: versionId }),
    });

  it("downloads a valid CycloneDX document named after the image and version", async () => {
    current = stranger;
    const response = await call(ids["1.0"]!);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/filename="sbom-[0-9a-f]{8}-1\.0\.cdx\.json"/);
    const json = await response.text();
    expect(await cycloneDxErrors(json)).toBeNull();
    expect(JSON.parse(json).components).toHaveLength(input.packages.length);
  });

  it("downloads a valid SPDX document with ?format=spdx", async () => {
    current = stranger;
    const response = await call(ids["1.0"]!, "?format=spdx");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/\.spdx\.json"/);
    const document = await response.json();
    expect(spdxErrors(document)).toBeNull();
    expect(document.documentNamespace).toMatch(/^http:\/\/hangar\.test\/spdx\//);
  });

  it("answers 409 while the scan hasn't finished, 404 for a hidden version, 400 for an unknown format, 401 signed out", async () => {
    current = member;
    const running = await call(ids["2.0"]!);
    expect(running.status).toBe(409);
    expect((await running.json()).error.message).toMatch(/still being read/);
    // The draft is visible to members of its project only.
    expect((await call(ids["3.0"]!)).status).toBe(200);
    current = stranger;
    const hidden = await call(ids["3.0"]!);
    expect(hidden.status).toBe(404);
    expect((await hidden.json()).error.code).toBe("not_found");
    expect((await call("not-a-uuid")).status).toBe(404);
    expect((await call(ids["1.0"]!, "?format=xml")).status).toBe(400);
    current = null;
    expect((await call(ids["1.0"]!)).status).toBe(401);
  });
});
