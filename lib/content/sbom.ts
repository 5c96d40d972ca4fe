// A version's software bill of materials, from its stored content scan: CycloneDX 1.5 JSON (built
// with the CycloneDX library's models and serializer) and SPDX 2.3 JSON (built here: no maintained
// npm library writes 2.3). The detected OS is the top component and every installed package hangs
// under it with its package URL (packageurl-js encodes them). Tests validate both documents against
// the official JSON schemas.
import { randomUUID } from "node:crypto";
import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import { PackageURL } from "packageurl-js";
import type { PackageScheme } from "@/db/enums";
import type { SbomScan, SbomSource } from "@/db/queries/packages";
import type { ContentPackage } from "./types";

export type SbomPackage = ContentPackage & { scheme: PackageScheme };

/** What a document is made of: a version whose scan finished. */
export interface SbomInput {
  versionId: string;
  version: string;
  imageSlug: string;
  imageName: string;
  sha256: string;
  scan: SbomScan;
  packages: SbomPackage[];
}

/** The input when the source has a finished scan, else why there is none (for a clear refusal). */
export function sbomInputOf(source: SbomSource): SbomInput | { reason: string } {
  if (!source.ready || !source.sha256)
    return { reason: "This version's bytes are not ready yet, so its contents have not been read." };
  const scan = source.scan;
  if (!scan || scan.status === "queued" || scan.status === "running")
    return { reason: "This version's contents are still being read. Download its SBOM once the inspection finished." };
  if (scan.status !== "succeeded")
    return {
      reason: `Reading this version's contents ${scan.status === "cancelled" ? "was cancelled" : "failed"}${scan.failureReason ? `: ${scan.failureReason}` : ""}. Inspect it again, then download its SBOM.`,
    };
  return {
    versionId: source.versionId,
    version: source.version,
    imageSlug: source.imageSlug,
    imageName: source.imageName,
    sha256: source.sha256,
    scan,
    packages: source.packages,
  };
}

// libguestfs's distribution names, as package URL namespaces (purl-spec's deb/rpm/apk examples).
const purlNamespaces: Record<string, string> = {
  alpinelinux: "alpine",
  rhel: "redhat",
  redhat_based: "redhat",
  archlinux: "arch",
  "opensuse-leap": "opensuse",
  "opensuse-tumbleweed": "opensuse",
  sles: "suse",
};

const purlTypes: Record<PackageScheme, string> = { deb: "deb", rpm: "rpm", apk: "apk", other: "generic" };

function distroOf(scan: SbomScan): { namespace: string | undefined; qualifier: string | undefined } {
  const distro = scan.distro && scan.distro !== "unknown" ? scan.distro.toLowerCase() : undefined;
  const namespace = distro ? (purlNamespaces[distro] ?? distro) : undefined;
  return {
    namespace,
    qualifier: namespace && scan.osVersion ? `${namespace}-${scan.osVersion}` : namespace,
  };
}

/**
 * pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12: a deb version keeps its
 * epoch (as dpkg prints it); an rpm version is version-release with the epoch as a qualifier.
 */
export function packageUrl(pkg: SbomPackage, scan: SbomScan): string {
  const { namespace, qualifier } = distroOf(scan);
  const qualifiers: Record<string, string> = {};
  if (pkg.arch) qualifiers.arch = pkg.arch;
  if (qualifier) qualifiers.distro = qualifier;
  let version = pkg.version;
  if (pkg.scheme === "rpm") {
    version = pkg.release ? `${pkg.upstreamVersion}-${pkg.release}` : pkg.upstreamVersion;
    if (pkg.epoch) qualifiers.epoch = String(pkg.epoch);
  }
  return new PackageURL(purlTypes[pkg.scheme], namespace, pkg.name, version, qualifiers).toString();
}

function osName(scan: SbomScan): string {
  return scan.distro && scan.distro !== "unknown" ? scan.distro : (scan.osType ?? "unknown");
}

export function sbomFilename(input: Pick<SbomInput, "imageSlug" | "version">, format: "cyclonedx" | "spdx"): string {
  return `${input.imageSlug}-${input.version}.${format === "cyclonedx" ? "cdx" : "spdx"}.json`;
}

/** A CycloneDX 1.5 JSON document (as text). */
export function cycloneDxSbom(input: SbomInput, { now = new Date() }: { now?: Date } = {}): string {
  const bom = new Models.Bom({ serialNumber: `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = now;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, "Hangar", { group: "hangar" }),
  );
  const osFound = input.scan.osFound !== false;
  const top = osFound
    ? new Models.Component(Enums.ComponentType.OperatingSystem, osName(input.scan), {
        version: input.scan.osVersion ?? undefined,
        description: input.scan.productName ?? undefined,
        bomRef: "os",
      })
    : new Models.Component(Enums.ComponentType.File, `${input.imageSlug}-${input.version}`, {
        description: "A disk image in which no operating system was detected.",
        bomRef: "image",
      });
  top.properties.add(new Models.Property("hangar:image", input.imageSlug));
  top.properties.add(new Models.Property("hangar:version", input.version));
  top.properties.add(new Models.Property("hangar:sha256", input.sha256));
  if (input.scan.arch) top.properties.add(new Models.Property("hangar:arch", input.scan.arch));
  bom.metadata.component = top;
  const refs = new Set<string>();
  for (const pkg of input.packages) {
    const purl = packageUrl(pkg, input.scan);
    let ref = purl;
    for (let copy = 2; refs.has(ref); copy += 1) ref = `${purl}#${copy}`;
    refs.add(ref);
    const component = new Models.Component(Enums.ComponentType.Library, pkg.name, {
      version: pkg.version,
      purl,
      bomRef: ref,
    });
    bom.components.add(component);
    top.dependencies.add(component.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot5));
  return serializer.serialize(bom, { sortLists: false, space: 2 });
}

/** An SPDX id: letters, digits, '.' and '-' after "SPDXRef-". */
const spdxId = (text: string) => `SPDXRef-${text.replace(/[^A-Za-z0-9.-]/g, "-")}`;

/** An SPDX 2.3 JSON document. `namespaceBase` is an absolute URL this Hangar answers at. */
export function spdxSbom(
  input: SbomInput,
  { now = new Date(), namespaceBase }: { now?: Date; namespaceBase: string },
): Record<string, unknown> {
  const osFound = input.scan.osFound !== false;
  const topId = osFound ? "SPDXRef-OperatingSystem" : "SPDXRef-Image";
  const created = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const top: Record<string, unknown> = {
    SPDXID: topId,
    name: osFound ? osName(input.scan) : `${input.imageSlug}-${input.version}`,
    ...(osFound && input.scan.osVersion ? { versionInfo: input.scan.osVersion } : {}),
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    // The 2.3 JSON schema spells it with an underscore (the spec's prose with a hyphen); the schema decides.
    primaryPackagePurpose: osFound ? "OPERATING_SYSTEM" : "FILE",
    ...(osFound && input.scan.productName ? { description: input.scan.productName } : {}),
    comment: `Read from ${input.imageSlug} version ${input.version} (sha256 ${input.sha256}) by Hangar.`,
  };
  const ids = new Set<string>([topId]);
  const packages = input.packages.map((pkg) => {
    const base = spdxId(`Package-${pkg.name}-${pkg.version}-${pkg.arch}`);
    let id = base;
    for (let copy = 2; ids.has(id); copy += 1) id = `${base}-${copy}`;
    ids.add(id);
    return {
      SPDXID: id,
      name: pkg.name,
      versionInfo: pkg.version,
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      externalRefs: [
        { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: packageUrl(pkg, input.scan) },
      ],
    };
  });
  const name = `${input.imageSlug}-${input.version}`;
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name,
    documentNamespace: `${namespaceBase.replace(/\/+$/, "")}/spdx/${encodeURIComponent(name)}-${randomUUID()}`,
    creationInfo: { created, creators: ["Tool: Hangar"] },
    packages: [top, ...packages],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: topId },
      ...packages.map((pkg) => ({
        spdxElementId: topId,
        relationshipType: "CONTAINS",
        relatedSpdxElement: pkg.SPDXID,
      })),
    ],
  };
}
