// The LXD/Incus metadata tarball, unpacked by the real tar and xz, read the way incusd reads it
// (cmd/incusd/images.go getImageMetadata: metadata.yaml at the top, an architecture shared/osarch
// knows, a non-zero creation_date), and the combined fingerprint against `cat | sha256sum`.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { combinedSha256, lxdMetadataTarball, type LxdMetadataFacts } from "./lxd-metadata";

const work = mkdtempSync(path.join(os.tmpdir(), "hangar-lxd-metadata-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const facts: LxdMetadataFacts = {
  versionId: "0c9d6a1e-5b7f-4e2a-9d3c-1f2e3d4c5b6a",
  imageSlug: "debian-12-base",
  imageName: "Debian 12 base",
  os: "Debian",
  osVersion: "12",
  arch: "x86_64",
  version: "12.7.0",
  createdAt: new Date("2026-11-30T08:00:00.000Z"),
  approvedAt: new Date("2026-12-01T10:15:30.250Z"),
};

function unpack(tarball: Buffer) {
  const dir = mkdtempSync(path.join(work, "unpack-"));
  const file = path.join(dir, "lxd.tar.xz");
  writeFileSync(file, tarball);
  execFileSync("tar", ["-xJf", file, "-C", dir]);
  const listing = execFileSync("tar", ["-tvJf", file, "--numeric-owner", "--full-time"], {
    env: { ...process.env, TZ: "UTC" },
  }).toString();
  return { file, listing, metadata: readFileSync(path.join(dir, "metadata.yaml"), "utf8") };
}

describe("lxdMetadataTarball", () => {
  it("is a tar.xz with metadata.yaml that LXD and Incus accept for a VM image", async () => {
    const tarball = await lxdMetadataTarball(facts, "lxd");
    const { file, listing, metadata } = unpack(tarball);

    execFileSync("xz", ["--test", file]);
    // One entry, owned by root, mode 0644, dated the version's approval.
    expect(listing.trim()).toMatch(/^-rw-r--r-- 0\/0 +\d+ 2026-12-01 10:15:30 metadata\.yaml$/);

    const parsed = parse(metadata);
    const serial = "20261201_1015.30250.0c9d6a1e";
    expect(parsed).toEqual({
      architecture: "x86_64",
      creation_date: Math.floor(Date.parse("2026-12-01T10:15:30Z") / 1000),
      properties: {
        architecture: "amd64",
        description: "Debian 12 base 12.7.0 (amd64)",
        name: `debian-12-base-12.7.0-amd64-${serial}`,
        os: "Debian",
        release: "12",
        serial,
        variant: "default",
      },
      templates: {},
    });
    expect(Number.isInteger(parsed.creation_date)).toBe(true);
    // properties is map[string]string in api.ImageMetadata: "12" must stay a string, not become 12.
    expect(metadata).toMatch(/release: "12"/);
    for (const value of Object.values(parsed.properties)) expect(typeof value).toBe("string");
  });

  it("gives the same bytes for the same facts, and other bytes for other facts", async () => {
    const first = await lxdMetadataTarball(facts, "lxd");
    const again = await lxdMetadataTarball({ ...facts }, "lxd");
    expect(again.equals(first)).toBe(true);
    expect((await lxdMetadataTarball(facts, "incus")).equals(first)).toBe(true);
    expect((await lxdMetadataTarball({ ...facts, arch: "aarch64" }, "lxd")).equals(first)).toBe(false);
    // The environment's xz options do not leak in (a block size would split the stream).
    process.env.XZ_OPT = "--block-size=1000";
    try {
      expect((await lxdMetadataTarball(facts, "lxd")).equals(first)).toBe(true);
    } finally {
      delete process.env.XZ_OPT;
    }
  });

  it("names an arm64 image's architecture the way LXD does", async () => {
    const { metadata } = unpack(await lxdMetadataTarball({ ...facts, arch: "aarch64", approvedAt: null }, "incus"));
    const parsed = parse(metadata);
    expect(parsed.architecture).toBe("aarch64");
    expect(parsed.properties.architecture).toBe("arm64");
    expect(parsed.creation_date).toBe(Date.parse("2026-11-30T08:00:00Z") / 1000);
  });
});

describe("combinedSha256", () => {
  it("is sha256 of the tarball followed by the disk, as `cat tarball disk | sha256sum`", async () => {
    const tarball = await lxdMetadataTarball({ ...facts, versionId: randomUUID() }, "lxd");
    const tarPath = path.join(work, "meta.tar.xz");
    writeFileSync(tarPath, tarball);
    const disk = path.join(work, "disk.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "64M"]);
    // Bytes past the 1 MiB read size, so the disk is read in more than one piece.
    writeFileSync(disk, Buffer.alloc(3 * 1024 * 1024 + 17, 7), { flag: "a" });

    const expected = execFileSync("sh", ["-c", 'cat "$0" "$1" | sha256sum', tarPath, disk]).toString().split(" ")[0];
    expect(await combinedSha256(tarball, disk)).toBe(expected);
  });

  it("fails on a disk that is not there", async () => {
    await expect(combinedSha256(Buffer.from("x"), path.join(work, "missing.qcow2"))).rejects.toThrow(/ENOENT/);
  });
});
