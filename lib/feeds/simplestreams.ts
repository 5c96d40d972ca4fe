// simplestreams (index:1.0 + products:1.0), read by LXD and Incus as remote image servers and by
// OpenStack's sstream-mirror-glance. One products file per published channel, content id
// `hangar:<channel>` at `streams/v1/<content id>.json` (as Ubuntu names its files), each listing
// the version every image's channel points at, so a Glance mirror can follow one channel by its file.
//
// LXD and Incus read every file in the index and refuse to launch an image whose fingerprint occurs
// twice (shared/simplestreams/simplestreams.go, GetImage: "More than one match"). A version that
// several channels point at is therefore made launchable (given its lxd.tar.xz/incus.tar.xz items)
// in one file only, its home channel's, and that product carries the aliases of all its channels;
// the other files list its disk alone, which LXD and Incus skip and Glance still syncs.
//
// The disk is `disk1.img`, not `disk-kvm.img`: LXD and Incus launch a VM from either (products.go,
// ToAPI, with `combined_disk1-img_sha256` as the fingerprint of a disk1.img), while
// sstream-mirror-glance only takes disk1.img/disk.img by default (mirrors/glance.py item_filters).
// Listing the same file under both names would give LXD two images with one fingerprint.
import type { Architecture, PlatformArtifactKind } from "@/db/enums";
import type { FeedContext, FeedVersion } from "./types";

/** Facts of a stored `platform_artifacts` row (its bytes are served by path, not listed). */
export interface PlatformArtifactFacts {
  versionId: string;
  kind: PlatformArtifactKind;
  sha256: string;
  size: number;
  /** sha256 of the tarball followed by the disk file: LXD's and Incus's image fingerprint. */
  combinedSha256: string;
}

export interface SimplestreamsItem {
  ftype: string;
  path: string;
  size: number;
  sha256: string;
  md5?: string;
  "combined_disk1-img_sha256"?: string;
  "combined_disk-kvm-img_sha256"?: string;
}

export interface SimplestreamsVersion {
  label: string;
  pubname: string;
  items: Record<string, SimplestreamsItem>;
}

export interface SimplestreamsProduct {
  aliases: string;
  arch: string;
  os: string;
  release: string;
  release_title: string;
  version: string;
  variant: string;
  supported: boolean;
  requirements?: Record<string, string>;
  versions: Record<string, SimplestreamsVersion>;
}

export interface ProductsDocument {
  content_id: string;
  datatype: "image-downloads";
  format: "products:1.0";
  updated?: string;
  products: Record<string, SimplestreamsProduct>;
}

export interface StreamsIndexEntry {
  datatype: "image-downloads";
  format: "products:1.0";
  path: string;
  updated?: string;
  products: string[];
}

export interface StreamsIndex {
  format: "index:1.0";
  updated?: string;
  index: Record<string, StreamsIndexEntry>;
}

/** Debian's architecture names, which simplestreams feeds use and LXD/Incus map back (shared/osarch). */
export const simplestreamsArch: Record<Architecture, string> = {
  x86_64: "amd64",
  aarch64: "arm64",
  ppc64le: "ppc64el",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** The moment a version entered the feed: its approval, or its creation where no approval date was kept. */
export function releasedAt(version: Pick<FeedVersion, "approvedAt" | "createdAt">): Date {
  return version.approvedAt ?? version.createdAt;
}

/**
 * A version's key in `versions`: `YYYYMMDD_HHMM` (LXD reads the first 8 characters as the creation
 * date), then seconds and milliseconds and a piece of the version id, all fixed-width, so C sort
 * order is release order even within a minute and two versions never share a key. A function of
 * the version alone, so a version keeps its serial whatever else the feed lists.
 */
export function serialOf(version: Pick<FeedVersion, "versionId" | "approvedAt" | "createdAt">): string {
  const iso = releasedAt(version).toISOString();
  const date = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
  const minute = `${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  const millis = `${iso.slice(17, 19)}${iso.slice(20, 23)}`;
  return `${date}_${minute}.${millis}.${version.versionId.replace(/-/g, "").slice(0, 8)}`;
}

/** The product's release: the OS version (`12`, `24.04`), or `current` for a rolling one, as LXD's image server names Arch Linux. */
export function releaseOf(version: Pick<FeedVersion, "osVersion">): string {
  const release = version.osVersion.trim().replace(/[^A-Za-z0-9._-]+/g, "-");
  return release === "" ? "current" : release;
}

/** `<slug>:<release>:<arch>:default`, the shape of LXD's image server (`debian:bookworm:amd64:default`). */
export function productKey(version: Pick<FeedVersion, "imageSlug" | "osVersion" | "arch">): string {
  return `${version.imageSlug}:${releaseOf(version)}:${simplestreamsArch[version.arch]}:default`;
}

/** `latest` first, then by name: the order channels are listed in everywhere. */
export function sortChannels(channels: readonly string[]): string[] {
  return [...new Set(channels)].sort((a, b) => (a === "latest" ? -1 : b === "latest" ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** The one channel whose products file makes the version launchable in LXD and Incus. */
export function homeChannelOf(version: Pick<FeedVersion, "channels">): string | undefined {
  return sortChannels(version.channels)[0];
}

/** `<slug>/<channel>` for each channel, and the bare slug for `latest` (`lxc launch hangar:<slug> --vm`). */
export function aliasesOf(version: Pick<FeedVersion, "imageSlug" | "channels">): string[] {
  return sortChannels(version.channels).flatMap((channel) =>
    channel === "latest" ? [version.imageSlug, `${version.imageSlug}/latest`] : [`${version.imageSlug}/${channel}`],
  );
}

export function contentIdOf(channel: string): string {
  return `hangar:${channel}`;
}

/** Where a products file lives under the feed, named by its content id as Ubuntu's streams are. */
export function productsPath(contentId: string): string {
  return `streams/v1/${contentId}.json`;
}

/** A path relative to the feed base, as simplestreams wants (mirrors join it to their own base). */
function relativeToFeed(url: string, context: FeedContext): string {
  if (!url.startsWith(context.base)) {
    throw new Error(`The download URL ${url} is not under the feed ${context.base}`);
  }
  return url.slice(context.base.length);
}

/**
 * The metadata tarballs live under `streams/` with the documents, so everything simplestreams adds
 * to a feed is under one prefix; the path is immutable per version, as simplestreams requires.
 */
export function metadataTarballPath(versionId: string, kind: PlatformArtifactKind): string {
  return `streams/files/${versionId}/${kind}.tar.xz`;
}

export type SimplestreamsRoute =
  | { kind: "index" }
  | { kind: "products"; contentId: string }
  | { kind: "tarball"; versionId: string; artifact: PlatformArtifactKind };

/** What a path under the feed asks for: the index, a products file by content id, or a metadata tarball. */
export function matchSimplestreamsPath(tail: string): SimplestreamsRoute | null {
  if (tail === "streams/v1/index.json") return { kind: "index" };
  const products = /^streams\/v1\/(hangar:[a-z][a-z0-9-]*)\.json$/.exec(tail);
  if (products?.[1]) return { kind: "products", contentId: products[1] };
  const tarball = /^streams\/files\/([0-9a-f-]{36})\/(lxd|incus)\.tar\.xz$/.exec(tail);
  if (tarball?.[1] && tarball[2])
    return { kind: "tarball", versionId: tarball[1], artifact: tarball[2] as PlatformArtifactKind };
  return null;
}

/** RFC 2822, as simplestreams' `updated` (`Thu, 03 Dec 2026 12:58:41 +0000`). */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

function newest(dates: Date[]): Date | undefined {
  return dates.reduce<Date | undefined>((max, date) => (max && max >= date ? max : date), undefined);
}

function versionItems(
  version: FeedVersion,
  artifacts: ArtifactIndex,
  context: FeedContext,
  launchable: boolean,
): Record<string, SimplestreamsItem> {
  const disk = {
    path: relativeToFeed(version.urls.download, context),
    size: version.fileSize,
    sha256: version.sha256,
    md5: version.md5,
  };
  // Only qcow2 is a disk1.img: Glance registers a disk1.img as qcow2 and LXD/Incus unpack the
  // root with `qemu-img -f qcow2`. Other formats are listed under their own name, which neither
  // LXD/Incus nor Glance's default filters pick up, and get no metadata tarball.
  if (version.format !== "qcow2") {
    return { [version.format]: { ftype: version.format, ...disk } };
  }
  const items: Record<string, SimplestreamsItem> = { "disk1.img": { ftype: "disk1.img", ...disk } };
  if (!launchable) return items;
  for (const kind of ["lxd", "incus"] as const) {
    const artifact = artifacts.get(`${version.versionId} ${kind}`);
    if (!artifact) continue;
    items[`${kind}.tar.xz`] = {
      ftype: `${kind}.tar.xz`,
      path: metadataTarballPath(version.versionId, kind),
      size: artifact.size,
      sha256: artifact.sha256,
      "combined_disk1-img_sha256": artifact.combinedSha256,
      // The same bytes as a disk-kvm.img would have: for readers that only know that name.
      "combined_disk-kvm-img_sha256": artifact.combinedSha256,
    };
  }
  return items;
}

export interface ProductsFileOptions {
  contentId: string;
  /**
   * The channel this file lists. A version gets its LXD/Incus items only in its home channel's
   * file; without a channel (a file that lists every version once) every version gets them.
   */
  channel?: string;
}

/**
 * A products:1.0 file. Versions are grouped by image and architecture; a product's aliases are
 * those of its newest version, which is the one LXD and Incus give them to (sort.go: newest serial
 * first), so a channel file (one version per product) resolves every alias exactly.
 */
export function productsFile(
  versions: FeedVersion[],
  artifacts: PlatformArtifactFacts[],
  context: FeedContext,
  options: ProductsFileOptions,
): ProductsDocument {
  return productsDocument(versions, indexArtifacts(artifacts), context, options);
}

type ArtifactIndex = Map<string, PlatformArtifactFacts>;

function indexArtifacts(artifacts: PlatformArtifactFacts[]): ArtifactIndex {
  return new Map(artifacts.map((artifact) => [`${artifact.versionId} ${artifact.kind}`, artifact]));
}

function productsDocument(
  versions: FeedVersion[],
  artifactsByKey: ArtifactIndex,
  context: FeedContext,
  { contentId, channel }: ProductsFileOptions,
): ProductsDocument {
  const ordered = versions
    .map((version) => ({ version, serial: serialOf(version) }))
    .sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
  const byProduct = new Map<string, { head: FeedVersion; line: typeof ordered }>();
  for (const entry of ordered) {
    const key = productKey(entry.version);
    const product = byProduct.get(key);
    // Oldest first, so the newest is the product's head once all are in.
    if (product) {
      product.head = entry.version;
      product.line.push(entry);
    } else {
      byProduct.set(key, { head: entry.version, line: [entry] });
    }
  }

  const products: Record<string, SimplestreamsProduct> = {};
  for (const [key, { head, line }] of [...byProduct].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const arch = simplestreamsArch[head.arch];
    const release = releaseOf(head);
    products[key] = {
      aliases: aliasesOf(head).join(","),
      arch,
      os: head.os,
      release,
      release_title: head.osVersion.trim() || release,
      version: head.osVersion.trim() || release,
      variant: "default",
      supported: head.releaseStatus === "approved",
      // LXD/Incus boot VMs with UEFI and secure boot; an image made for BIOS says it cannot, so the
      // launch fails with "Please set security.secureboot=false" instead of a VM that never boots.
      ...(head.vmTemplate.firmware === "bios" ? { requirements: { secureboot: "false" } } : {}),
      versions: Object.fromEntries(
        line.map(({ version, serial }) => [
          serial,
          {
            label: `${version.imageName} ${version.version}${version.releaseStatus === "deprecated" ? " (deprecated)" : ""}`,
            pubname: `${version.imageSlug}-${version.version}-${arch}`,
            items: versionItems(
              version,
              artifactsByKey,
              context,
              channel === undefined || homeChannelOf(version) === channel,
            ),
          },
        ]),
      ),
    };
  }

  const updated = newest(versions.map(releasedAt));
  return {
    content_id: contentId,
    datatype: "image-downloads",
    format: "products:1.0",
    ...(updated ? { updated: rfc2822(updated) } : {}),
    products,
  };
}

/** One products file per channel that points at anything, `latest` first. */
export function channelProductsFiles(
  versions: FeedVersion[],
  artifacts: PlatformArtifactFacts[],
  context: FeedContext,
): ProductsDocument[] {
  const artifactsByKey = indexArtifacts(artifacts);
  return sortChannels(versions.flatMap((version) => version.channels)).map((channel) =>
    productsDocument(
      versions.filter((version) => version.channels.includes(channel)),
      artifactsByKey,
      context,
      { contentId: contentIdOf(channel), channel },
    ),
  );
}

/** What the index needs of a products file: its content id, date and product keys. */
export interface ProductsSummary {
  content_id: string;
  updated?: string;
  productKeys: string[];
}

/**
 * The channel files as the index sees them, without building their items: the same entries as
 * `channelProductsFiles` gives the index, at a fraction of the cost for a feed of thousands.
 */
export function channelProductsSummaries(versions: FeedVersion[]): ProductsSummary[] {
  const byChannel = new Map<string, { keys: Set<string>; newest: Date }>();
  for (const version of versions) {
    const at = releasedAt(version);
    for (const channel of version.channels) {
      const entry = byChannel.get(channel);
      if (!entry) byChannel.set(channel, { keys: new Set([productKey(version)]), newest: at });
      else {
        entry.keys.add(productKey(version));
        if (at > entry.newest) entry.newest = at;
      }
    }
  }
  return sortChannels([...byChannel.keys()]).flatMap((channel) => {
    const entry = byChannel.get(channel);
    return entry
      ? [{ content_id: contentIdOf(channel), updated: rfc2822(entry.newest), productKeys: [...entry.keys].sort() }]
      : [];
  });
}

/** streams/v1/index.json: an entry per products file, under its content id, at its path. */
export function streamsIndex(files: (ProductsDocument | ProductsSummary)[]): StreamsIndex {
  const updated = newest(files.flatMap((file) => (file.updated ? [new Date(file.updated)] : [])));
  return {
    format: "index:1.0",
    ...(updated ? { updated: rfc2822(updated) } : {}),
    index: Object.fromEntries(
      files.map((file) => [
        file.content_id,
        {
          datatype: "image-downloads",
          format: "products:1.0",
          path: productsPath(file.content_id),
          ...(file.updated ? { updated: file.updated } : {}),
          products: "productKeys" in file ? file.productKeys : Object.keys(file.products),
        },
      ]),
    ),
  };
}
