// The simplestreams documents checked field by field against what their readers take from them:
// LXD's and Incus's client (shared/simplestreams in lxc/incus and canonical/lxd: index.go,
// products.go ToAPI, simplestreams.go applyAliases/GetImage, sort.go) and sstream-mirror-glance
// (simplestreams mirrors/glance.py: its default filters and disk_format). The readers' logic that
// decides what is listed and launched is re-stated below so a document they would misread fails.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defaultVmTemplate } from "@/db/enums";
import {
  channelProductsFiles,
  channelProductsSummaries,
  matchSimplestreamsPath,
  productsFile,
  serialOf,
  streamsIndex,
  type PlatformArtifactFacts,
  type ProductsDocument,
  type SimplestreamsProduct,
} from "./simplestreams";
import { extensionOf, type FeedContext, type FeedVersion } from "./types";

const context: FeedContext = { base: "https://hangar.example.test/feeds/f33dt0k3n/", name: "Test feed", public: false };

function hex(seed: string, length = 64): string {
  return seed.repeat(length).slice(0, length);
}

function feedVersion(overrides: Partial<FeedVersion> = {}): FeedVersion {
  const versionId = overrides.versionId ?? randomUUID();
  const imageSlug = overrides.imageSlug ?? "debian-12-base";
  const version = overrides.version ?? "12.7.0";
  const format = overrides.format ?? "qcow2";
  return {
    versionId,
    imageId: randomUUID(),
    imageSlug,
    imageName: "Debian 12 base",
    imageDescription: "A small Debian",
    os: "Debian",
    osVersion: "12",
    arch: "x86_64",
    version,
    releaseStatus: "approved",
    channels: ["latest"],
    format,
    fileSize: 123_456_789,
    virtualSize: 2 * 1024 ** 3,
    sha256: hex("a"),
    sha512: hex("b", 128),
    md5: hex("c", 32),
    createdAt: new Date("2026-11-30T08:00:00.000Z"),
    approvedAt: new Date("2026-12-01T10:15:30.250Z"),
    publisher: "Platform team",
    tags: ["debian"],
    vmTemplate: defaultVmTemplate,
    urls: { download: `${context.base}files/${versionId}/${imageSlug}-${version}.${extensionOf[format]}` },
    ...overrides,
  };
}

function artifactsFor(version: FeedVersion): PlatformArtifactFacts[] {
  return (["lxd", "incus"] as const).map((kind) => ({
    versionId: version.versionId,
    kind,
    sha256: hex(kind === "lxd" ? "1" : "2"),
    size: 420,
    combinedSha256: combinedOf(version),
  }));
}

function combinedOf(version: FeedVersion): string {
  return `${version.versionId.replace(/-/g, "")}${hex("f", 32)}`;
}

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

const productOf = (file: ProductsDocument, key: string) => defined(file.products[key], `product ${key}`);
const onlyVersion = (product: SimplestreamsProduct) => {
  expect(Object.keys(product.versions)).toHaveLength(1);
  return defined(Object.values(product.versions)[0], "the version");
};

// --- What LXD and Incus make of the documents (shared/simplestreams) -----------------------------

/** shared/osarch architectureNames + architectureAliases, the ones a product's `arch` may be. */
const osarchKnown = new Set([
  "x86_64",
  "amd64",
  "aarch64",
  "arm64",
  "ppc64le",
  "ppc64el",
  "s390x",
  "riscv64",
  "i686",
  "i386",
]);

interface ClientImage {
  fingerprint: string;
  type: "virtual-machine" | "container";
  properties: Record<string, string>;
  aliases: string[];
  files: { meta: { path: string; sha256: string; size: number }; root: { path: string; sha256: string; size: number } };
  size: number;
}

/** products.go ToAPI: a meta item (lxd.tar.xz in LXD, incus.tar.xz in Incus) paired with each root item. */
function clientImages(doc: ProductsDocument, metaFtype: "lxd.tar.xz" | "incus.tar.xz"): ClientImage[] {
  const images: ClientImage[] = [];
  for (const product of Object.values(doc.products)) {
    if (!osarchKnown.has(product.arch)) continue;
    for (const [serial, version] of Object.entries(product.versions)) {
      // time.Parse("20060102", name[0:8])
      if (serial.length < 8 || !/^\d{8}$/.test(serial.slice(0, 8))) continue;
      for (const meta of Object.values(version.items)) {
        if (meta.ftype !== metaFtype) continue;
        for (const root of Object.values(version.items)) {
          if (!["disk1.img", "disk-kvm.img", "uefi1.img", "root.tar.xz", "squashfs"].includes(root.ftype)) continue;
          const fingerprint =
            root.ftype === "disk-kvm.img"
              ? meta["combined_disk-kvm-img_sha256"]
              : root.ftype === "disk1.img"
                ? meta["combined_disk1-img_sha256"]
                : undefined;
          if (!fingerprint || !meta.path) continue;
          images.push({
            fingerprint,
            type: ["disk1.img", "disk-kvm.img", "uefi1.img"].includes(root.ftype) ? "virtual-machine" : "container",
            properties: {
              os: product.os,
              release: product.release,
              variant: product.variant,
              architecture: product.arch,
              serial,
              type: root.ftype,
              description: `${product.os} ${product.release_title} ${product.arch} (${version.label}) (${serial})`,
            },
            aliases: product.aliases ? product.aliases.split(",") : [],
            files: {
              meta: { path: meta.path, sha256: meta.sha256, size: meta.size },
              root: { path: root.path, sha256: root.sha256, size: root.size },
            },
            size: meta.size + root.size,
          });
        }
      }
    }
  }
  return images;
}

/** sort.go sortedImages: os, release, variant, then newest serial first, then architecture. */
function clientSort(images: ClientImage[]): ClientImage[] {
  return [...images].sort((a, b) => {
    for (const prop of ["os", "release", "variant", "serial", "architecture"]) {
      const [x, y] = [a.properties[prop] ?? "", b.properties[prop] ?? ""];
      if (x === y) continue;
      if (prop === "serial") return x > y ? -1 : 1;
      return x < y ? -1 : 1;
    }
    return 0;
  });
}

/** simplestreams.go getImages over every image-downloads entry, then applyAliases; GetAlias resolves. */
function client(
  index: ReturnType<typeof streamsIndex>,
  files: ProductsDocument[],
  metaFtype: "lxd.tar.xz" | "incus.tar.xz",
) {
  const byPath = new Map(files.map((file) => [`streams/v1/${file.content_id}.json`, file]));
  const images: ClientImage[] = [];
  for (const entry of Object.values(index.index)) {
    if (entry.datatype !== "image-downloads" || entry.products.length === 0) continue;
    const file = byPath.get(entry.path);
    if (!file) throw new Error(`index names ${entry.path}, which is not served`);
    images.push(...clientImages(file, metaFtype));
  }
  const aliases = new Map<string, string>();
  for (const image of clientSort(images)) {
    for (const alias of image.aliases) {
      const key = `${image.type} ${image.properties.architecture} ${alias}`;
      if (!aliases.has(key)) aliases.set(key, image.fingerprint);
    }
  }
  return {
    images,
    alias: (name: string) => aliases.get(`virtual-machine amd64 ${name}`),
    /** GetImage: a prefix match that refuses more than one. */
    image: (fingerprint: string) => {
      const matches = images.filter((image) => image.fingerprint.startsWith(fingerprint));
      const [match] = matches;
      if (!match || matches.length !== 1) throw new Error(`${matches.length} images match ${fingerprint}`);
      return match;
    },
  };
}

// --- What sstream-mirror-glance takes (simplestreams mirrors/glance.py) ----------------------------

/** GlanceMirror defaults: index_filters datatype=image-downloads, item_filters ftype~(disk1.img|disk.img), arch~(x86_64|amd64|i386). */
function glanceItems(doc: ProductsDocument) {
  return Object.entries(doc.products).flatMap(([product, data]) =>
    Object.entries(data.versions).flatMap(([version, v]) =>
      Object.entries(v.items)
        .filter(([, item]) => /disk1.img|disk.img/.test(item.ftype) && /x86_64|amd64|i386/.test(data.arch))
        .map(([item, i]) => ({ product, version, item, diskFormat: i.ftype === "disk1.img" ? "qcow2" : "?", ...i })),
    ),
  );
}

const rfc2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

describe("simplestreams index and products", () => {
  it("writes products:1.0 with the fields LXD, Incus and Glance read", () => {
    const version = feedVersion({ channels: ["latest"] });
    const file = productsFile([version], artifactsFor(version), context, {
      contentId: "hangar:latest",
      channel: "latest",
    });

    expect(file.content_id).toBe("hangar:latest");
    expect(file.format).toBe("products:1.0");
    expect(file.datatype).toBe("image-downloads");
    expect(file.updated).toBe("Tue, 01 Dec 2026 10:15:30 +0000");
    expect(file.updated).toMatch(rfc2822);
    expect(Object.keys(file.products)).toEqual(["debian-12-base:12:amd64:default"]);

    const product = productOf(file, "debian-12-base:12:amd64:default");
    expect(product).toMatchObject({
      aliases: "debian-12-base,debian-12-base/latest",
      arch: "amd64",
      os: "Debian",
      release: "12",
      release_title: "12",
      version: "12",
      variant: "default",
      supported: true,
      requirements: { secureboot: "false" },
    });
    const serial = "20261201_1015.30250." + version.versionId.replace(/-/g, "").slice(0, 8);
    expect(Object.keys(product.versions)).toEqual([serial]);
    const listed = onlyVersion(product);
    expect(listed.label).toBe("Debian 12 base 12.7.0");
    expect(listed.pubname).toBe("debian-12-base-12.7.0-amd64");

    const diskPath = `files/${version.versionId}/debian-12-base-12.7.0.qcow2`;
    expect(listed.items).toEqual({
      "disk1.img": { ftype: "disk1.img", path: diskPath, size: 123_456_789, sha256: hex("a"), md5: hex("c", 32) },
      "lxd.tar.xz": {
        ftype: "lxd.tar.xz",
        path: `streams/files/${version.versionId}/lxd.tar.xz`,
        size: 420,
        sha256: hex("1"),
        "combined_disk1-img_sha256": combinedOf(version),
        "combined_disk-kvm-img_sha256": combinedOf(version),
      },
      "incus.tar.xz": {
        ftype: "incus.tar.xz",
        path: `streams/files/${version.versionId}/incus.tar.xz`,
        size: 420,
        sha256: hex("2"),
        "combined_disk1-img_sha256": combinedOf(version),
        "combined_disk-kvm-img_sha256": combinedOf(version),
      },
    });
    // A path is relative to the feed base: the reader joins it to the URL it was given.
    expect(context.base + diskPath).toBe(version.urls.download);

    for (const meta of ["lxd.tar.xz", "incus.tar.xz"] as const) {
      const images = clientImages(file, meta);
      expect(images).toHaveLength(1);
      const image = defined(images[0], "the image");
      expect(image).toMatchObject({
        fingerprint: combinedOf(version),
        type: "virtual-machine",
        size: 420 + 123_456_789,
        files: { root: { path: diskPath, sha256: hex("a"), size: 123_456_789 } },
      });
      expect(image.properties.description).toBe(`Debian 12 amd64 (Debian 12 base 12.7.0) (${serial})`);
    }
    expect(glanceItems(file)).toEqual([
      expect.objectContaining({ item: "disk1.img", diskFormat: "qcow2", path: diskPath, md5: hex("c", 32) }),
    ]);
  });

  it("maps architectures to LXD's names and leaves UEFI images without requirements", () => {
    const arm = feedVersion({ arch: "aarch64", vmTemplate: { ...defaultVmTemplate, firmware: "uefi" } });
    const file = productsFile([arm], [], context, { contentId: "hangar:latest" });
    const product = productOf(file, "debian-12-base:12:arm64:default");
    expect(product.arch).toBe("arm64");
    expect(product.requirements).toBeUndefined();
    expect(osarchKnown.has(product.arch)).toBe(true);

    const rolling = feedVersion({ osVersion: "", os: "Arch Linux", imageSlug: "arch" });
    expect(Object.keys(productsFile([rolling], [], context, { contentId: "x:y" }).products)).toEqual([
      "arch:current:amd64:default",
    ]);
  });

  it("keys versions by date serials in release order, unique within a minute", () => {
    const first = feedVersion({ version: "1", approvedAt: new Date("2026-12-03T12:58:41.999Z") });
    const sameMinute = feedVersion({ version: "2", approvedAt: new Date("2026-12-03T12:58:07.001Z") });
    const never = feedVersion({ version: "0", approvedAt: null, createdAt: new Date("2026-12-02T23:59:59.000Z") });
    const later = feedVersion({ version: "3", approvedAt: new Date("2026-12-03T13:00:00.000Z") });
    const twinA = feedVersion({ version: "4", approvedAt: new Date("2026-12-04T00:00:00.000Z") });
    const twinB = feedVersion({ version: "5", approvedAt: new Date("2026-12-04T00:00:00.000Z") });

    const file = productsFile([later, twinB, first, never, twinA, sameMinute], [], context, {
      contentId: "hangar:all",
    });
    const keys = Object.keys(productOf(file, "debian-12-base:12:amd64:default").versions);

    for (const key of keys) expect(key).toMatch(/^\d{8}_\d{4}\.\d{5}\.[0-9a-f]{8}$/);
    expect(keys.slice(0, 4)).toEqual([never, sameMinute, first, later].map(serialOf));
    expect(keys[0]).toMatch(/^20261202_2359/);
    expect(keys[1]).toMatch(/^20261203_1258/);
    expect(keys[2]).toMatch(/^20261203_1258/);
    expect(new Set(keys).size).toBe(6);
    // Newest last in C (byte) order, which is what LANG=C sort and Glance's --max use.
    expect([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(keys);
    expect(file.updated).toBe("Fri, 04 Dec 2026 00:00:00 +0000");
  });

  it("writes one products file per channel and an index that names each, with one launchable copy of each version", () => {
    const old = feedVersion({ version: "12.6.0", approvedAt: new Date("2026-10-01T09:00:00Z"), channels: ["stable"] });
    const current = feedVersion({
      version: "12.7.0",
      approvedAt: new Date("2026-11-01T09:00:00Z"),
      channels: ["testing", "latest"],
    });
    const web = feedVersion({ imageSlug: "web", imageName: "Web", version: "3", channels: ["latest", "stable"] });
    const raw = feedVersion({ imageSlug: "raw-disk", version: "1", format: "raw", channels: ["latest"] });
    const versions = [old, current, web, raw];
    const artifacts = versions.flatMap(artifactsFor);

    const files = channelProductsFiles(versions, artifacts, context);
    expect(files.map((file) => file.content_id)).toEqual(["hangar:latest", "hangar:stable", "hangar:testing"]);
    const index = streamsIndex(files);

    // The index from summaries alone is the same document.
    expect(streamsIndex(channelProductsSummaries(versions))).toEqual(index);
    expect(JSON.stringify(streamsIndex(channelProductsSummaries(versions)))).toBe(JSON.stringify(index));

    expect(index.format).toBe("index:1.0");
    expect(index.updated).toMatch(rfc2822);
    expect(index.updated).toBe(files[0]?.updated);
    expect(index.index).toEqual({
      "hangar:latest": {
        datatype: "image-downloads",
        format: "products:1.0",
        path: "streams/v1/hangar:latest.json",
        updated: files[0]?.updated,
        products: ["debian-12-base:12:amd64:default", "raw-disk:12:amd64:default", "web:12:amd64:default"],
      },
      "hangar:stable": {
        datatype: "image-downloads",
        format: "products:1.0",
        path: "streams/v1/hangar:stable.json",
        updated: files[1]?.updated,
        products: ["debian-12-base:12:amd64:default", "web:12:amd64:default"],
      },
      "hangar:testing": {
        datatype: "image-downloads",
        format: "products:1.0",
        path: "streams/v1/hangar:testing.json",
        updated: files[2]?.updated,
        products: ["debian-12-base:12:amd64:default"],
      },
    });

    // Each channel's file lists exactly the version the channel points at.
    const [latest, stable, testing] = [0, 1, 2].map((i) => defined(files[i], `file ${i}`)) as [
      ProductsDocument,
      ProductsDocument,
      ProductsDocument,
    ];
    const listed = (file: ProductsDocument, key: string) => Object.keys(productOf(file, key).versions);
    expect(listed(latest, "debian-12-base:12:amd64:default")).toEqual([serialOf(current)]);
    expect(listed(stable, "debian-12-base:12:amd64:default")).toEqual([serialOf(old)]);
    expect(listed(testing, "debian-12-base:12:amd64:default")).toEqual([serialOf(current)]);
    expect(listed(stable, "web:12:amd64:default")).toEqual([serialOf(web)]);
    expect(productOf(latest, "debian-12-base:12:amd64:default").aliases).toBe(
      "debian-12-base,debian-12-base/latest,debian-12-base/testing",
    );

    // LXD and Incus: every fingerprint once across the feed, every alias on its channel's version.
    for (const meta of ["lxd.tar.xz", "incus.tar.xz"] as const) {
      const lxd = client(index, files, meta);
      const fingerprints = lxd.images.map((image) => image.fingerprint);
      expect(new Set(fingerprints).size).toBe(fingerprints.length);
      expect(fingerprints).toHaveLength(3);
      expect(lxd.alias("debian-12-base")).toBe(combinedOf(current));
      expect(lxd.alias("debian-12-base/latest")).toBe(combinedOf(current));
      expect(lxd.alias("debian-12-base/testing")).toBe(combinedOf(current));
      expect(lxd.alias("debian-12-base/stable")).toBe(combinedOf(old));
      expect(lxd.alias("web")).toBe(combinedOf(web));
      expect(lxd.alias("web/stable")).toBe(combinedOf(web));
      expect(lxd.alias("raw-disk")).toBeUndefined();
      for (const version of [old, current, web]) {
        expect(lxd.image(combinedOf(version).slice(0, 12)).files.root.path).toBe(
          version.urls.download.slice(context.base.length),
        );
      }
    }

    // Glance following one channel's file gets that channel's qcow2 versions, never the raw disk.
    expect(glanceItems(stable).map((item) => item.path)).toEqual(
      [old, web].map((version) => version.urls.download.slice(context.base.length)),
    );
    expect(glanceItems(latest).map((item) => item.product)).toEqual([
      "debian-12-base:12:amd64:default",
      "web:12:amd64:default",
    ]);
  });

  it("lists other formats under their own name, without LXD items, and deprecated versions as such", () => {
    const raw = feedVersion({ format: "raw", releaseStatus: "deprecated" });
    const file = productsFile([raw], artifactsFor(raw), context, { contentId: "hangar:latest" });
    const product = productOf(file, "debian-12-base:12:amd64:default");
    const version = onlyVersion(product);
    expect(version.items).toEqual({
      raw: {
        ftype: "raw",
        path: `files/${raw.versionId}/debian-12-base-12.7.0.img`,
        size: 123_456_789,
        sha256: hex("a"),
        md5: hex("c", 32),
      },
    });
    expect(version.label).toBe("Debian 12 base 12.7.0 (deprecated)");
    expect(product.supported).toBe(false);
    expect(clientImages(file, "lxd.tar.xz")).toEqual([]);
    expect(glanceItems(file)).toEqual([]);
  });

  it("lists a qcow2 version whose tarballs are not made yet by its disk alone", () => {
    const version = feedVersion();
    const file = productsFile([version], [], context, { contentId: "hangar:latest", channel: "latest" });
    expect(Object.keys(onlyVersion(productOf(file, "debian-12-base:12:amd64:default")).items)).toEqual(["disk1.img"]);
  });

  it("routes every path the documents name, and nothing else", () => {
    const version = feedVersion({ channels: ["latest", "stable"] });
    const files = channelProductsFiles([version], artifactsFor(version), context);
    const index = streamsIndex(files);
    expect(matchSimplestreamsPath("streams/v1/index.json")).toEqual({ kind: "index" });
    for (const [contentId, entry] of Object.entries(index.index)) {
      expect(matchSimplestreamsPath(entry.path)).toEqual({ kind: "products", contentId });
    }
    const items = files.flatMap((file) =>
      Object.values(file.products).flatMap((product) =>
        Object.values(product.versions).flatMap((v) => Object.values(v.items)),
      ),
    );
    for (const kind of ["lxd", "incus"] as const) {
      const item = defined(
        items.find((entry) => entry.ftype === `${kind}.tar.xz`),
        kind,
      );
      expect(matchSimplestreamsPath(item.path)).toEqual({
        kind: "tarball",
        versionId: version.versionId,
        artifact: kind,
      });
    }
    // The disk is the feed's own files/ path, which the feed's file handler answers.
    expect(matchSimplestreamsPath(`files/${version.versionId}/debian-12-base-12.7.0.qcow2`)).toBeNull();
    for (const stray of [
      "streams/v1/index.sjson",
      "streams/v1/hangar:Stable.json",
      "streams/v1/other:stable.json",
      `streams/files/${version.versionId}/root.tar.xz`,
      "streams/files/not-a-uuid/lxd.tar.xz",
    ]) {
      expect(matchSimplestreamsPath(stray)).toBeNull();
    }
  });

  it("answers an empty feed with an empty index, and refuses a download URL outside the feed", () => {
    expect(streamsIndex(channelProductsFiles([], [], context))).toEqual({ format: "index:1.0", index: {} });
    expect(streamsIndex(channelProductsSummaries([]))).toEqual({ format: "index:1.0", index: {} });
    const stray = feedVersion({ urls: { download: "https://elsewhere.test/files/x.qcow2" } });
    expect(() => productsFile([stray], [], context, { contentId: "hangar:latest" })).toThrow(/not under the feed/);
  });
});
