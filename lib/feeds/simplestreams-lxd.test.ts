// The feed documents read by LXD's own client (Debian's lxd-client): the index, a products file per
// channel, the metadata tarballs and a real qcow2, served over HTTPS the way a feed serves them. The
// client lists and resolves aliases itself and, on export, checks each file's sha256 and the
// combined fingerprint, so a wrong hash or path fails here as it would for a user.
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultVmTemplate } from "@/db/enums";
import { combinedSha256, lxdMetadataTarball } from "./lxd-metadata";
import {
  channelProductsFiles,
  metadataTarballPath,
  productsPath,
  streamsIndex,
  type PlatformArtifactFacts,
} from "./simplestreams";
import type { FeedContext, FeedVersion } from "./types";

const run = promisify(execFile);
const work = mkdtempSync(path.join(os.tmpdir(), "hangar-simplestreams-lxd-"));
const served = new Map<string, Buffer>();
let server: https.Server;
let context: FeedContext;
let stable: FeedVersion;
let current: FeedVersion;
const fingerprints = new Map<string, string>();

function lxc(...args: string[]) {
  return run("lxc", args, {
    timeout: 60_000,
    env: { ...process.env, LXD_CONF: path.join(work, "lxd-conf"), SSL_CERT_FILE: path.join(work, "cert.pem") },
  });
}

beforeAll(async () => {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      path.join(work, "key.pem"),
      "-out",
      path.join(work, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  mkdirSync(path.join(work, "lxd-conf"));
  server = https.createServer(
    { key: readFileSync(path.join(work, "key.pem")), cert: readFileSync(path.join(work, "cert.pem")) },
    (request, response) => {
      const relative = decodeURIComponent(new URL(request.url ?? "/", context.base).pathname).slice(
        new URL(context.base).pathname.length,
      );
      const body = served.get(relative);
      if (!body) return void response.writeHead(404).end();
      response.writeHead(200, { "Content-Length": body.length }).end(body);
    },
  );
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  context = {
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}/feeds/t0k3n/`,
    name: "LXD test",
    public: false,
  };

  const disk = (name: string, pattern: string) => {
    const file = path.join(work, `${name}.qcow2`);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", file, "32M"]);
    execFileSync("qemu-io", ["-c", `write -P 0x${pattern} 0 1M`, file], { stdio: "ignore" });
    return file;
  };
  const stableDisk = disk("stable", "5a");
  const currentDisk = disk("current", "a5");
  const version = (label: string, channels: string[], approvedAt: Date, disk: string): FeedVersion => {
    const versionId = randomUUID();
    const bytes = readFileSync(disk);
    return {
      versionId,
      imageId: randomUUID(),
      imageSlug: "debian-12-base",
      imageName: "Debian 12 base",
      imageDescription: "",
      os: "Debian",
      osVersion: "12",
      arch: "x86_64",
      version: label,
      releaseStatus: "approved",
      channels,
      format: "qcow2",
      fileSize: statSync(disk).size,
      virtualSize: 32 << 20,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      sha512: createHash("sha512").update(bytes).digest("hex"),
      md5: createHash("md5").update(bytes).digest("hex"),
      createdAt: approvedAt,
      approvedAt,
      publisher: "Platform team",
      tags: [],
      vmTemplate: { ...defaultVmTemplate, firmware: "uefi" },
      urls: { download: `${context.base}files/${versionId}/debian-12-base-${label}.qcow2` },
    };
  };
  stable = version("12.6.0", ["stable"], new Date("2026-10-01T09:00:00Z"), stableDisk);
  current = version("12.7.0", ["latest", "testing"], new Date("2026-11-01T09:00:00Z"), currentDisk);

  const artifacts: PlatformArtifactFacts[] = [];
  for (const [feedVersion, file] of [
    [stable, stableDisk],
    [current, currentDisk],
  ] as const) {
    served.set(feedVersion.urls.download.slice(context.base.length), readFileSync(file));
    const tarball = await lxdMetadataTarball(feedVersion, "lxd");
    served.set(metadataTarballPath(feedVersion.versionId, "lxd"), tarball);
    const combined = await combinedSha256(tarball, file);
    fingerprints.set(feedVersion.versionId, combined);
    artifacts.push({
      versionId: feedVersion.versionId,
      kind: "lxd",
      sha256: createHash("sha256").update(tarball).digest("hex"),
      size: tarball.length,
      combinedSha256: combined,
    });
  }
  const files = channelProductsFiles([stable, current], artifacts, context);
  served.set("streams/v1/index.json", Buffer.from(JSON.stringify(streamsIndex(files))));
  for (const file of files) served.set(productsPath(file.content_id), Buffer.from(JSON.stringify(file)));

  await lxc("remote", "add", "hangar", context.base, "--protocol", "simplestreams");
});

afterAll(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("LXD's client against the simplestreams documents", () => {
  it("lists each version once as a VM image with its channels' aliases", async () => {
    const { stdout } = await lxc("image", "list", "hangar:", "--format", "json");
    const images = JSON.parse(stdout) as {
      fingerprint: string;
      type: string;
      architecture: string;
      size: number;
      aliases: { name: string }[];
      properties: Record<string, string>;
    }[];
    const byFingerprint = new Map(images.map((image) => [image.fingerprint, image]));
    expect(images).toHaveLength(2);

    const latest = byFingerprint.get(fingerprints.get(current.versionId)!)!;
    expect(latest).toMatchObject({ type: "virtual-machine", architecture: "x86_64" });
    expect(latest.properties).toMatchObject({
      os: "Debian",
      release: "12",
      architecture: "amd64",
      type: "disk1.img",
      label: "Debian 12 base 12.7.0",
    });
    expect(latest.properties.serial).toMatch(/^20261101_0900\./);
    expect(latest.aliases.map((alias) => alias.name).sort()).toEqual([
      "debian-12-base",
      "debian-12-base/amd64",
      "debian-12-base/latest",
      "debian-12-base/latest/amd64",
      "debian-12-base/testing",
      "debian-12-base/testing/amd64",
    ]);
    const old = byFingerprint.get(fingerprints.get(stable.versionId)!)!;
    expect(old.aliases.map((alias) => alias.name).sort()).toEqual([
      "debian-12-base/stable",
      "debian-12-base/stable/amd64",
    ]);
    expect(old.size).toBe(served.get(metadataTarballPath(stable.versionId, "lxd"))!.length + stable.fileSize);
  });

  it("exports a channel's version with checked hashes: the tarball and the disk, whose combined hash is the fingerprint", async () => {
    const out = path.join(work, "export");
    mkdirSync(out);
    await lxc("image", "export", "hangar:debian-12-base/stable", `${out}/`, "--vm");
    expect(readdirSync(out).sort()).toEqual(["debian-12-base-12.6.0.qcow2", "lxd.tar.xz"]);
    expect(
      readFileSync(path.join(out, "debian-12-base-12.6.0.qcow2")).equals(
        served.get(stable.urls.download.slice(context.base.length))!,
      ),
    ).toBe(true);
    const combined = execFileSync("sh", [
      "-c",
      'cat "$0" "$1" | sha256sum',
      path.join(out, "lxd.tar.xz"),
      path.join(out, "debian-12-base-12.6.0.qcow2"),
    ])
      .toString()
      .split(" ")[0];
    expect(combined).toBe(fingerprints.get(stable.versionId));
  });

  it("refuses a disk whose bytes do not match the feed", async () => {
    const diskPath = current.urls.download.slice(context.base.length);
    const good = served.get(diskPath)!;
    mkdirSync(path.join(work, "tampered"));
    served.set(
      diskPath,
      Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good.readUInt8(good.length - 1) ^ 1])]),
    );
    try {
      await expect(
        lxc("image", "export", "hangar:debian-12-base", `${path.join(work, "tampered")}/`, "--vm"),
      ).rejects.toThrow(/Hash mismatch for https:\/\/127\.0\.0\.1:\d+\/feeds\/t0k3n\/files\//);
    } finally {
      served.set(diskPath, good);
    }
  });
});
