// The metadata half of a split LXD/Incus VM image (`lxd.tar.xz` / `incus.tar.xz`): a tar.xz holding
// metadata.yaml, whose root half is the version's qcow2 as it is. Both read it the same way
// (incusd images.go getImageMetadata: metadata.yaml at the top, a known architecture, a non-zero
// creation_date), so the two kinds hold the same bytes. The bytes are a function of the version's
// facts only (fixed owner, mode and mtime in the tar; xz single-threaded with fixed options and
// none from the environment), so making it again gives the same sha256 and the same fingerprint.
// xz is Debian's xz-utils: the reference encoder, and what LXD's own images are packed with.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { addAbortSignal, type Readable } from "node:stream";
import { pack } from "tar-stream";
import { stringify } from "yaml";
import type { PlatformArtifactKind } from "@/db/enums";
import { releaseOf, releasedAt, serialOf, simplestreamsArch } from "./simplestreams";
import type { FeedVersion } from "./types";

export type LxdMetadataFacts = Pick<
  FeedVersion,
  "versionId" | "imageSlug" | "imageName" | "os" | "osVersion" | "arch" | "version" | "createdAt" | "approvedAt"
>;

/** metadata.yaml as LXD and Incus write it for their own images (distrobuilder's keys). */
export function lxdMetadataYaml(version: LxdMetadataFacts): string {
  const arch = simplestreamsArch[version.arch];
  const serial = serialOf(version);
  return stringify({
    // LXD's own architecture names are the kernel's (shared/osarch): x86_64, aarch64.
    architecture: version.arch,
    creation_date: Math.floor(releasedAt(version).getTime() / 1000),
    properties: {
      architecture: arch,
      description: `${version.imageName} ${version.version} (${arch})`,
      name: `${version.imageSlug}-${version.version}-${arch}-${serial}`,
      os: version.os,
      release: releaseOf(version),
      serial,
      variant: "default",
    },
    templates: {},
  });
}

function tarOf(name: string, content: Buffer, mtime: Date): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tar = pack();
    const chunks: Buffer[] = [];
    tar.on("data", (chunk) => chunks.push(chunk as Buffer));
    tar.on("end", () => resolve(Buffer.concat(chunks)));
    tar.on("error", reject);
    tar.entry(
      { name, type: "file", size: content.length, mode: 0o644, mtime, uid: 0, gid: 0, uname: "root", gname: "root" },
      content,
      (error) => (error ? reject(error) : tar.finalize()),
    );
  });
}

function xz(input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // XZ_DEFAULTS and XZ_OPT would change the bytes: the child does not see them.
    const { XZ_DEFAULTS: _defaults, XZ_OPT: _options, ...env } = process.env;
    const child = spawn("xz", ["--compress", "--stdout", "--format=xz", "--check=crc64", "--threads=1", "-6"], {
      env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error("xz is not installed; install Debian's xz-utils to make LXD/Incus metadata tarballs")
          : error,
      ),
    );
    child.on("close", (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`xz failed (exit ${code}): ${Buffer.concat(err).toString().trim()}`)),
    );
    child.stdin.end(input);
  });
}

/** The `lxd.tar.xz` or `incus.tar.xz` of a version: the same bytes for the same facts. */
export async function lxdMetadataTarball(version: LxdMetadataFacts, _kind: PlatformArtifactKind): Promise<Buffer> {
  // Both kinds are read the same way today; the kind only names the item it is served as.
  return xz(await tarOf("metadata.yaml", Buffer.from(lxdMetadataYaml(version)), releasedAt(version)));
}

/**
 * LXD's and Incus's fingerprint of a split image: sha256 of the tarball then the disk, read in pieces
 * from its path or a stream of its bytes (the blob store's, so no local copy is needed).
 */
export async function combinedSha256(tarball: Buffer, disk: string | Readable, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256").update(tarball);
  // The stream stops at the signal (a job's time limit, a stopping worker) with its reason.
  const source =
    typeof disk === "string"
      ? createReadStream(disk, { highWaterMark: 1 << 20, signal })
      : signal
        ? addAbortSignal(signal, disk)
        : disk;
  for await (const chunk of source) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}
