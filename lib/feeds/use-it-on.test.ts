import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { defaultVmTemplate, type DiskFormat } from "@/db/enums";
import type { FeedVersion } from "./types";
import { channelLookup } from "./channel-lookup";
import { applianceId, applianceIndex } from "./opennebula";
import {
  useItOnPlatforms,
  platformSnippets,
  type UseItOnLinks,
  type UseItOnPlatform,
  type UseItOnSnippet,
} from "./use-it-on";

const FEED = "https://hangar.example/feeds/hgf_abc123/";
const HOSTILE = `a'b"c $(x)`;
const sha256 = "a".repeat(64);
const sha512 = "b".repeat(128);
const md5 = "c".repeat(32);

function feedVersion(overrides: Partial<FeedVersion> = {}): FeedVersion {
  const format = overrides.format ?? "qcow2";
  return {
    versionId: "0b6c2f5e-5f7b-4c55-9d8e-1d7d3e0c9a11",
    imageId: "5d1f0d3a-2a55-4a57-8b55-2f0f4c9b7a22",
    imageSlug: "debian-12-base",
    imageName: "Debian 12 base",
    imageDescription: "A small Debian",
    os: "debian",
    osVersion: "12",
    arch: "x86_64",
    version: "12.7.0",
    releaseStatus: "approved",
    channels: ["stable"],
    format,
    fileSize: 400 * 2 ** 20,
    virtualSize: 2 * 2 ** 30 + 1,
    sha256,
    sha512,
    md5,
    createdAt: new Date("2026-11-01T10:00:00Z"),
    approvedAt: new Date("2026-11-02T10:00:00Z"),
    publisher: "Platform team",
    tags: ["base"],
    vmTemplate: defaultVmTemplate,
    urls: { download: `${FEED}files/0b6c2f5e-5f7b-4c55-9d8e-1d7d3e0c9a11/debian-12-base-12.7.0.${format}` },
    ...overrides,
  };
}

const links: UseItOnLinks = {
  feed: { base: FEED, name: "Public images", public: true },
  channelLookup: `${FEED}channels/debian-12-base/stable.json`,
};

function snippet(list: UseItOnSnippet[], platform: UseItOnPlatform): UseItOnSnippet {
  const found = list.find((entry) => entry.platform === platform);
  if (!found) throw new Error(`no ${platform} entry`);
  return found;
}

function code(list: UseItOnSnippet[], platform: UseItOnPlatform): string {
  const found = snippet(list, platform);
  if (found.code === null) throw new Error(`${platform} unavailable: ${found.note}`);
  return found.code;
}

const stubbed = ["glance", "pvesh", "qm", "onemarket", "onemarketapp", "incus", "lxc", "curl"];

/**
 * Runs a shell snippet in real bash, in an empty directory, with each platform command replaced by
 * a function that records its arguments: what bash parsed is what the platform would get. Returns
 * one array per call and the files the snippet wrote.
 */
function shellCalls(script: string): { calls: string[][]; files: Record<string, string> } {
  const dir = mkdtempSync(path.join(tmpdir(), "use-it-on-"));
  try {
    const prelude = [
      ...stubbed.map((name) => `${name}() { printf '%s\\0' ${name} "$@"; printf '\\n\\0'; }`),
      `sha256sum() { printf '%s\\0' sha256sum "$@" "stdin=$(cat)"; printf '\\n\\0'; }`,
    ].join("\n");
    const run = spawnSync("bash", ["-euc", `${prelude}\n${script}`], { cwd: dir, encoding: "utf8" });
    if (run.status !== 0 || run.stderr) throw new Error(`bash said (${run.status}): ${run.stderr}`);
    const calls: string[][] = [];
    let current: string[] = [];
    for (const field of run.stdout.split("\0").slice(0, -1)) {
      if (field === "\n") {
        calls.push(current);
        current = [];
      } else current.push(field);
    }
    const files = Object.fromEntries(
      readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), "utf8")] as const),
    );
    return { calls, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function argAfter(call: string[], flag: string): string | undefined {
  const index = call.indexOf(flag);
  return index === -1 ? undefined : call[index + 1];
}

describe("use it on: the snippets for an offered version", () => {
  it("lists every platform in the panel's order", () => {
    expect(platformSnippets(feedVersion(), links).map((entry) => entry.platform)).toEqual([...useItOnPlatforms]);
    expect(useItOnPlatforms[0]).toBe("opennebula");
    expect(useItOnPlatforms.at(-1)).toBe("curl");
  });

  it("OpenNebula: a `one` marketplace at <feed>/opennebula/ and the export of this version's appliance, by its index name", () => {
    const version = feedVersion();
    const list = platformSnippets(version, { ...links, marketName: 'Our "Hangar" market' });
    const { calls, files } = shellCalls(code(list, "opennebula"));
    const template = files["hangar-marketplace.tmpl"]!;
    expect(template).toContain('MARKET_MAD = "one"');
    expect(template).toContain(`ENDPOINT = "${FEED}opennebula/"`);
    expect(template).toMatch(/^NAME = "Our -Hangar- market"$/m);
    const [entry] = applianceIndex([version], links.feed!).appliances.filter(
      (appliance) => appliance._id.$oid === applianceId(version.versionId),
    );
    expect(calls).toEqual([
      ["onemarket", "create", "hangar-marketplace.tmpl"],
      ["onemarketapp", "export", entry!.name, "Debian 12 base 12.7.0", "--datastore", "default"],
    ]);
    expect(entry!.name).toBe("Hangar - Debian 12 base 12.7.0");
    expect(code(platformSnippets(version, links), "opennebula")).toMatch(/^NAME = "Hangar"$/m);
  });

  it("OpenNebula through a token feed: the export names the app as that feed's index does, with the feed's name", () => {
    const version = feedVersion();
    const feed = { base: FEED, name: "Team A prod", public: false };
    const { calls } = shellCalls(code(platformSnippets(version, { ...links, feed }), "opennebula"));
    const [entry] = applianceIndex(
      [
        feedVersion({ versionId: "0b6c2f5e-5f7b-4c55-9d8e-1d7d3e0c9a12", version: "12.8.0", channels: ["latest"] }),
        version,
      ],
      feed,
    ).appliances.filter((appliance) => appliance._id.$oid === applianceId(version.versionId));
    expect(entry!.name).toBe("Hangar Team A prod - Debian 12 base 12.7.0");
    expect(calls[1]).toEqual([
      "onemarketapp",
      "export",
      entry!.name,
      "Debian 12 base 12.7.0",
      "--datastore",
      "default",
    ]);
  });

  it("Proxmox: download-url into import content with the sha512, then a VM importing that file", () => {
    const list = platformSnippets(
      feedVersion({
        vmTemplate: { ...defaultVmTemplate, vcpu: 2, memoryMiB: 4096, diskBus: "scsi", firmware: "uefi" },
      }),
      links,
    );
    const { calls } = shellCalls(code(list, "proxmox"));
    const [download, create] = calls;
    expect(download!.slice(0, 3)).toEqual(["pvesh", "create", "/nodes/pve/storage/local/download-url"]);
    expect(argAfter(download!, "--content")).toBe("import");
    expect(argAfter(download!, "--filename")).toBe("debian-12-base-12.7.0.qcow2");
    expect(argAfter(download!, "--url")).toBe(feedVersion().urls.download);
    expect(argAfter(download!, "--checksum")).toBe(sha512);
    expect(argAfter(download!, "--checksum-algorithm")).toBe("sha512");
    expect(create!.slice(0, 3)).toEqual(["qm", "create", "9000"]);
    expect(argAfter(create!, "--cores")).toBe("2");
    expect(argAfter(create!, "--memory")).toBe("4096");
    expect(argAfter(create!, "--scsihw")).toBe("virtio-scsi-single");
    expect(argAfter(create!, "--bios")).toBe("ovmf");
    expect(argAfter(create!, "--efidisk0")).toBe("local-lvm:1,efitype=4m");
    expect(argAfter(create!, "--scsi0")).toBe("local-lvm:0,import-from=local:import/debian-12-base-12.7.0.qcow2");
    expect(argAfter(create!, "--boot")).toBe("order=scsi0");
  });

  it("Proxmox names raw .raw (import refuses .img), an ISO goes to iso content, and vhdx is refused with a reason", () => {
    const raw = shellCalls(code(platformSnippets(feedVersion({ format: "raw" }), links), "proxmox")).calls;
    expect(argAfter(raw[0]!, "--filename")).toBe("debian-12-base-12.7.0.raw");
    expect(argAfter(raw[1]!, "--virtio0")).toBe("local-lvm:0,import-from=local:import/debian-12-base-12.7.0.raw");

    const iso = shellCalls(code(platformSnippets(feedVersion({ format: "iso" }), links), "proxmox")).calls;
    expect(iso).toHaveLength(1);
    expect(argAfter(iso[0]!, "--content")).toBe("iso");
    expect(argAfter(iso[0]!, "--filename")).toBe("debian-12-base-12.7.0.iso");

    const vhdx = snippet(platformSnippets(feedVersion({ format: "vhdx" }), links), "proxmox");
    expect(vhdx.code).toBeNull();
    expect(vhdx.note).toMatch(/qcow2, raw and vmdk.*vhdx/);
  });

  it("Proxmox keeps only the file-name characters it accepts, so the import path matches the stored file", () => {
    const list = platformSnippets(feedVersion({ version: "1.0 $(x)'\"" }), links);
    const { calls } = shellCalls(code(list, "proxmox"));
    expect(argAfter(calls[0]!, "--filename")).toBe("debian-12-base-1.0___x___.qcow2");
    expect(argAfter(calls[1]!, "--virtio0")).toBe(
      "local-lvm:0,import-from=local:import/debian-12-base-1.0___x___.qcow2",
    );
  });

  it("KubeVirt: a DataVolume that parses, with the http url, `sha256:` checksum and room for the virtual size", () => {
    const manifest = parse(code(platformSnippets(feedVersion(), links), "kubevirt"));
    expect(manifest).toEqual({
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      metadata: { name: "debian-12-base-12-7-0" },
      spec: {
        source: { http: { url: feedVersion().urls.download, checksum: `sha256:${sha256}` } },
        storage: { resources: { requests: { storage: "3Gi" } } },
      },
    });
  });

  it("Harvester: a VirtualMachineImage that parses, downloading with the sha512, its display name intact", () => {
    const version = feedVersion({ imageName: HOSTILE, imageSlug: "Weird_Slug" });
    const manifest = parse(code(platformSnippets(version, links), "harvester"));
    expect(manifest).toEqual({
      apiVersion: "harvesterhci.io/v1beta1",
      kind: "VirtualMachineImage",
      metadata: { name: "weird-slug-12-7-0", namespace: "default" },
      spec: { displayName: `${HOSTILE} 12.7.0`, sourceType: "download", url: version.urls.download, checksum: sha512 },
    });
    expect(manifest.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it("Glance: web-download with the mapped disk format, the hostile name reaching glance as typed", () => {
    const version = feedVersion({ imageName: HOSTILE });
    const list = platformSnippets(version, links);
    const [call] = shellCalls(code(list, "glance")).calls;
    expect(call!.slice(0, 2)).toEqual(["glance", "image-create-via-import"]);
    expect(argAfter(call!, "--import-method")).toBe("web-download");
    expect(argAfter(call!, "--uri")).toBe(version.urls.download);
    expect(argAfter(call!, "--disk-format")).toBe("qcow2");
    expect(argAfter(call!, "--container-format")).toBe("bare");
    expect(argAfter(call!, "--name")).toBe(`${HOSTILE} 12.7.0`);
    expect(snippet(list, "glance").note).toContain(sha512);
    expect(snippet(list, "glance").note).toContain("os_hash_value");

    const formats: [DiskFormat, string][] = [
      ["raw", "raw"],
      ["vmdk", "vmdk"],
      ["vhd", "vhd"],
      ["vhdx", "vhdx"],
      ["vdi", "vdi"],
      ["iso", "iso"],
    ];
    for (const [format, diskFormat] of formats) {
      const [other] = shellCalls(code(platformSnippets(feedVersion({ format }), links), "glance")).calls;
      expect(argAfter(other!, "--disk-format")).toBe(diskFormat);
    }
  });

  it("Incus and LXD: the feed as a simplestreams remote (no trailing slash) and a VM from the channel's alias", () => {
    const list = platformSnippets(feedVersion(), links);
    const { calls } = shellCalls(code(list, "incus"));
    const remote = FEED.slice(0, -1);
    expect(calls).toEqual([
      ["incus", "remote", "add", "hangar", remote, "--protocol", "simplestreams", "--public"],
      ["incus", "launch", "hangar:debian-12-base/stable", "vm1", "--vm"],
      ["lxc", "remote", "add", "hangar", remote, "--protocol", "simplestreams", "--public"],
      ["lxc", "launch", "hangar:debian-12-base/stable", "vm1", "--vm"],
    ]);
    expect(snippet(list, "incus").note).not.toMatch(/HTTPS/);

    const unchanneled = shellCalls(code(platformSnippets(feedVersion({ channels: [] }), links), "incus")).calls;
    expect(unchanneled[1]).toEqual(["incus", "launch", "hangar:debian-12-base/12.7.0", "vm1", "--vm"]);

    const plain = platformSnippets(feedVersion(), {
      ...links,
      feed: { ...links.feed!, base: "http://10.0.0.5:3000/feeds/hgf_abc123/" },
    });
    expect(snippet(plain, "incus").note).toMatch(/HTTPS only/);

    const raw = snippet(platformSnippets(feedVersion({ format: "raw" }), links), "incus");
    expect(raw.code).toBeNull();
    expect(raw.note).toMatch(/qcow2; this version is raw/);
  });

  it("Terraform: the http data source reads the channel lookup, jsondecode of response_body, outputs its URL and sha256", () => {
    const hcl = code(platformSnippets(feedVersion(), links), "terraform");
    expect(hcl).toContain(`data "http" "hangar_channel" {\n  url = "${links.channelLookup}"`);
    expect(hcl).toContain("jsondecode(data.http.hangar_channel.response_body)");
    expect(hcl).not.toMatch(/\.body\b/);
    expect(hcl).toContain("local.hangar_image.download.url");
    expect(hcl).toContain("local.hangar_image.version.sha256");
    expect(hcl).toContain("self.status_code == 200");
    // Structure: braces balance and every block opens at the top level with its type and labels.
    let depth = 0;
    for (const character of hcl.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
      if (character === "{") depth++;
      if (character === "}") depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
    expect(hcl.match(/^\S.*\{$/gm)).toEqual([
      'data "http" "hangar_channel" {',
      "locals {",
      'output "image_version" {',
      'output "image_url" {',
      'output "image_sha256" {',
    ]);
  });

  it("Terraform's outputs read fields the channel lookup really answers with", () => {
    const version = feedVersion();
    const answer = channelLookup([version], "stable");
    const hcl = code(platformSnippets(version, links), "terraform");
    const outputs = Object.fromEntries(
      [...hcl.matchAll(/output "(\w+)" \{\n {2}value = local\.hangar_image\.([\w.]+)\n\}/g)].map((match) => [
        match[1],
        match[2]!.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], answer),
      ]),
    );
    expect(outputs).toEqual({ image_version: "12.7.0", image_url: version.urls.download, image_sha256: sha256 });
  });

  it("Terraform escapes what HCL would interpolate or end a string on", () => {
    const hcl = code(
      platformSnippets(feedVersion(), { ...links, channelLookup: 'https://h.example/${path.root}/%{if x}"\\.json' }),
      "terraform",
    );
    expect(hcl).toContain('url = "https://h.example/$${path.root}/%%{if x}\\"\\\\.json"');
  });

  it("curl: the real curl downloads from a real server and the sha256sum line checks the file", async () => {
    const body = Buffer.from("not really a qcow2, but bytes with a known hash\n");
    const server = http.createServer((request, response) => {
      response.writeHead(200, { "Content-Length": body.length, "Content-Type": "application/octet-stream" });
      response.end(request.method === "HEAD" ? undefined : body);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const dir = mkdtempSync(path.join(tmpdir(), "use-it-on-curl-"));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feeds/hgf_abc123/`;
      const download = `${base}files/0b6c2f5e/debian-12-base-12.7.0.qcow2`;
      const good = createHash("sha256").update(body).digest("hex");
      // Asynchronous: the server answering curl lives in this process's event loop.
      const run = (hash: string) => {
        const script = code(platformSnippets(feedVersion({ sha256: hash, urls: { download } }), links), "curl");
        return promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, encoding: "utf8" });
      };
      const ok = await run(good);
      expect(ok.stdout).toBe("debian-12-base-12.7.0.qcow2: OK\n");
      expect(readFileSync(path.join(dir, "debian-12-base-12.7.0.qcow2"))).toEqual(body);
      await expect(run("0".repeat(64))).rejects.toMatchObject({ stdout: expect.stringContaining("FAILED") });
    } finally {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every snippet carries the version's own download URL and checksum", () => {
    const version = feedVersion();
    const list = platformSnippets(version, links);
    const expected: Partial<Record<UseItOnPlatform, string>> = {
      proxmox: sha512,
      kubevirt: `sha256:${sha256}`,
      harvester: sha512,
      curl: sha256,
    };
    for (const [platform, checksum] of Object.entries(expected)) {
      const text = code(list, platform as UseItOnPlatform);
      expect(text, platform).toContain(version.urls.download);
      expect(text, platform).toContain(checksum);
    }
    expect(code(list, "glance")).toContain(version.urls.download);
  });

  it("without a feed: only the download-URL snippets, and the feed ones say how to get a feed URL", () => {
    const list = platformSnippets(feedVersion(), { feed: null, channelLookup: null });
    const withCode = list.filter((entry) => entry.code !== null).map((entry) => entry.platform);
    expect(withCode).toEqual(["proxmox", "kubevirt", "harvester", "glance", "curl"]);
    for (const platform of ["opennebula", "incus", "terraform"] as const)
      expect(snippet(list, platform).note).toContain("feed create");
  });

  it("with a feed but no channel on this version, Terraform says why instead of guessing a lookup", () => {
    const entry = snippet(
      platformSnippets(feedVersion({ channels: [] }), { ...links, channelLookup: null }),
      "terraform",
    );
    expect(entry.code).toBeNull();
    expect(entry.note).toMatch(/no published channel/);
  });

  it("maps formats to the platforms that take them, and says why for the others", () => {
    const available = (format: DiskFormat) =>
      platformSnippets(feedVersion({ format }), links)
        .filter((entry) => entry.code !== null)
        .map((entry) => entry.platform);
    expect(available("qcow2")).toEqual([...useItOnPlatforms]);
    expect(available("raw")).toEqual(["opennebula", "proxmox", "kubevirt", "harvester", "glance", "terraform", "curl"]);
    expect(available("vmdk")).toEqual(["opennebula", "proxmox", "kubevirt", "glance", "terraform", "curl"]);
    expect(available("iso")).toEqual(["opennebula", "proxmox", "kubevirt", "harvester", "glance", "terraform", "curl"]);
    for (const format of ["vhd", "vhdx", "vdi"] as const)
      expect(available(format)).toEqual(["opennebula", "kubevirt", "glance", "terraform", "curl"]);
    for (const entry of platformSnippets(feedVersion({ format: "vdi" }), links))
      if (entry.code === null) expect(entry.note).toContain("vdi");
  });

  // shellCalls fails on anything bash writes to stderr, so a `$(x)` that ran ("x: command not found") fails too.
  it("a hostile image name survives every shell snippet as one argument, never run", () => {
    const version = feedVersion({ imageName: HOSTILE });
    const list = platformSnippets(version, links);
    for (const entry of list) {
      if (entry.language !== "shell" || entry.code === null) continue;
      const { calls } = shellCalls(entry.code);
      const args = calls.flat();
      expect(args.length, entry.platform).toBeGreaterThan(0);
      // OpenNebula names can't hold quotes or "$" (oned refuses them): the index builder replaces them.
      if (entry.platform === "opennebula") expect(args).toContain("Hangar - a-b-c -(x) 12.7.0");
      if (entry.platform === "glance") expect(args).toContain(`${HOSTILE} 12.7.0`);
    }
  });
});
