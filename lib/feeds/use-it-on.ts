// The "Use it on…" panel's content: for one offered version, what to paste into each platform, with
// its URL and checksum filled in. Pure: the page resolves the FeedVersion and the feed's links.
// Every value that comes from a person (image names, versions, the market name) goes through the
// quoting of the language it lands in; YAML is written by the `yaml` package, never by hand.
import { feedFileName } from "./service";
import { stringify } from "yaml";
import type { DiskFormat } from "@/db/enums";
import { shellQuote } from "@/lib/builds/virt-customize";
import { applianceId, applianceIndex, onemarketappExportCommand, onemarketCreateCommand } from "./opennebula";
import type { FeedContext, FeedVersion } from "./types";

export const useItOnPlatforms = [
  "opennebula",
  "proxmox",
  "kubevirt",
  "harvester",
  "glance",
  "incus",
  "terraform",
  "curl",
] as const;
export type UseItOnPlatform = (typeof useItOnPlatforms)[number];
export type SnippetLanguage = "shell" | "yaml" | "hcl";

/** A snippet to paste, or (code null) why this platform can't take this version, in `note`. */
export type UseItOnSnippet =
  | { platform: UseItOnPlatform; title: string; language: SnippetLanguage; code: string; note?: string }
  | { platform: UseItOnPlatform; title: string; language: SnippetLanguage; code: null; note: string };

export interface UseItOnLinks {
  /** The feed the snippets read (its base URL ends in "/"), or null when the viewer has no feed yet. */
  feed: FeedContext | null;
  /** `<feed>/channels/<image>/<channel>.json` for a channel that points at this version, or null. */
  channelLookup: string | null;
  /** What the OpenNebula marketplace is called on the OpenNebula side (default "Hangar"). */
  marketName?: string;
}

const NO_FEED_NOTE =
  "This needs a feed URL, which platforms read without signing in. An admin creates one with " +
  "`npm run admin -- feed create --project <slug>` on the server; it is printed once.";

/** Every platform's entry for one version, in the panel's order (not named `use…`: lint takes that for a hook). */
export function platformSnippets(version: FeedVersion, links: UseItOnLinks): UseItOnSnippet[] {
  return [
    openNebula(version, links),
    proxmox(version),
    kubevirt(version),
    harvester(version),
    glance(version),
    incus(version, links),
    terraform(links),
    curl(version),
  ];
}

// ---- quoting ------------------------------------------------------------------------------------

/** An HCL quoted string: escapes, and `${`/`%{` doubled so nothing is interpolated. */
function hclString(value: string): string {
  const escaped = value
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll("\t", "\\t")
    .replaceAll("${", () => "$${") // a function: in a replacement string "$$" means one "$"
    .replaceAll("%{", "%%{");
  return `"${escaped}"`;
}

function yamlDocument(value: unknown): string {
  // lineWidth 0: a folded sha512 or URL is valid YAML but unreadable and hard to compare.
  return stringify(value, { lineWidth: 0 });
}

// ---- names ---------------------------------------------------------------------------------------

/** `<slug>-<version>` with only the characters every platform keeps in a file name. */
function fileStem(version: FeedVersion): string {
  return `${version.imageSlug}-${version.version}`.replace(/[^A-Za-z0-9._+=-]/g, "_");
}

/** A Kubernetes object name (DNS-1123 label: lowercase, digits and "-", at most 63). */
function kubernetesName(version: FeedVersion): string {
  const name = `${version.imageSlug}-${version.version}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
  return name || "hangar-image";
}

/** The last path segment of the download URL, as `curl -O` names the file (not percent-decoded). */
function downloadFileName(url: string): string {
  const path = new URL(url).pathname;
  return path.slice(path.lastIndexOf("/") + 1) || "download";
}

function unavailable(
  platform: UseItOnPlatform,
  title: string,
  language: SnippetLanguage,
  note: string,
): UseItOnSnippet {
  return { platform, title, language, code: null, note };
}

// ---- platforms -----------------------------------------------------------------------------------

function openNebula(version: FeedVersion, links: UseItOnLinks): UseItOnSnippet {
  const title = "OpenNebula";
  if (!links.feed) return unavailable("opennebula", title, "shell", NO_FEED_NOTE);
  const marketName = links.marketName?.trim() || "Hangar";
  const code = [
    onemarketCreateCommand(links.feed.base, marketName).trimEnd(),
    "",
    "# After the marketplace's first monitoring run (oned.conf MONITORING_INTERVAL_MARKET, 600 s by default):",
    onemarketappExportCommand(applianceName(version, links.feed), `${version.imageName} ${version.version}`),
  ].join("\n");
  return {
    platform: "opennebula",
    title,
    language: "shell",
    code,
    note: "Create the marketplace once per OpenNebula; it then lists every version and channel this feed offers. The export makes an image and a VM template in the `default` datastore.",
  };
}

/**
 * The version's own entry in the marketplace, named by the index builder for this feed. Built from
 * this version alone: in a feed where another entry's name collides, the index adds the publisher to both.
 */
function applianceName(version: FeedVersion, feed: FeedContext): string {
  const id = applianceId(version.versionId);
  const index = applianceIndex([version], feed);
  return index.appliances.find((appliance) => appliance._id.$oid === id)!.name;
}

// Proxmox's `import` content takes these extensions (pve-storage PVE/Storage.pm,
// UPLOAD_IMPORT_EXT_RE_1 = \.(ova|qcow2|raw|vmdk)); raw must be named .raw there, not .img. An ISO
// goes to `iso` content instead. File names keep only [A-Za-z0-9-.+=_] (SAFE_CHAR_CLASS_RE): the
// download-url API normalizes anything else, so the name is made safe here to match the import.
const proxmoxImportExtension: Partial<Record<DiskFormat, string>> = { qcow2: "qcow2", raw: "raw", vmdk: "vmdk" };
const proxmoxDiskKey = { virtio: "virtio0", scsi: "scsi0", sata: "sata0", ide: "ide0" } as const;

function proxmox(version: FeedVersion): UseItOnSnippet {
  const title = "Proxmox VE";
  // Proxmox checks the file against the sha512 after the download, for either content type.
  const downloadUrl = (content: "iso" | "import", storage: string, filename: string) => [
    "NODE=pve         # the node's name",
    `STORAGE=local    # a storage with the ${storage} content type`,
    `pvesh create "/nodes/$NODE/storage/$STORAGE/download-url" \\`,
    `  --content ${content} \\`,
    `  --filename ${shellQuote(filename)} \\`,
    `  --url ${shellQuote(version.urls.download)} \\`,
    `  --checksum ${version.sha512} \\`,
    "  --checksum-algorithm sha512",
  ];
  // Checked against the download-url API (POST /nodes/{node}/storage/{storage}/download-url:
  // content iso|vztmpl|import, filename, url, checksum, checksum-algorithm md5…sha512).
  if (version.format === "iso") {
    const filename = `${fileStem(version)}.iso`;
    return {
      platform: "proxmox",
      title,
      language: "shell",
      code: downloadUrl("iso", "ISO image", filename).join("\n"),
      note: "Proxmox checks the sha512 after the download and deletes the file if it differs.",
    };
  }
  const extension = proxmoxImportExtension[version.format];
  if (!extension)
    return unavailable(
      "proxmox",
      title,
      "shell",
      `Proxmox imports qcow2, raw and vmdk disk images; this version is ${version.format}. Convert it to qcow2 and offer that version instead.`,
    );
  const filename = `${fileStem(version)}.${extension}`;
  const template = version.vmTemplate;
  const disk = proxmoxDiskKey[template.diskBus];
  const createVm = [
    "VMID=9000",
    "VM_STORAGE=local-lvm",
    `qm create "$VMID" --name ${shellQuote(kubernetesName(version))} \\`,
    `  --cores ${template.vcpu} --memory ${template.memoryMiB} --net0 virtio,bridge=vmbr0 \\`,
    ...(template.diskBus === "scsi" ? ["  --scsihw virtio-scsi-single \\"] : []),
    ...(template.firmware === "uefi" ? [`  --bios ovmf --machine q35 --efidisk0 "$VM_STORAGE:1,efitype=4m" \\`] : []),
    `  --${disk} "$VM_STORAGE:0,import-from=$STORAGE:import/${filename}" \\`,
    `  --boot order=${disk}`,
  ];
  return {
    platform: "proxmox",
    title,
    language: "shell",
    code: [
      ...downloadUrl("import", "Import", filename),
      "",
      "# Then a VM whose disk is imported from it:",
      ...createVm,
    ].join("\n"),
    note: "Proxmox checks the sha512 after the download and deletes the file if it differs. The storage needs the Import content type (Datacenter → Storage → Edit → Content).",
  };
}

/** A PVC request that holds the virtual disk: whole GiB, at least one. */
function storageRequest(version: FeedVersion): string {
  return `${Math.max(1, Math.ceil(version.virtualSize / 2 ** 30))}Gi`;
}

function kubevirt(version: FeedVersion): UseItOnSnippet {
  // CDI's http source (DataVolumeSourceHTTP: url, secretRef, certConfigMap, extraHeaders, …) gained
  // `checksum: "<algorithm>:<hex>"` in CDI v1.65 (kubevirt/containerized-data-importer#4010). It
  // converts every format Hangar stores (VMDK, VDI, VHD, VHDX since #1669; ISO as raw).
  const manifest = {
    apiVersion: "cdi.kubevirt.io/v1beta1",
    kind: "DataVolume",
    metadata: { name: kubernetesName(version) },
    spec: {
      source: { http: { url: version.urls.download, checksum: `sha256:${version.sha256}` } },
      storage: { resources: { requests: { storage: storageRequest(version) } } },
    },
  };
  return {
    platform: "kubevirt",
    title: "KubeVirt (CDI)",
    language: "yaml",
    code: yamlDocument(manifest),
    note: "Apply with `kubectl apply -f datavolume.yaml`. `checksum` needs CDI v1.65 or later; an older CDI refuses the unknown field, so remove that line there.",
  };
}

// Harvester takes qcow2, raw and ISO images.
const harvesterFormats: readonly DiskFormat[] = ["qcow2", "raw", "iso"];

function harvester(version: FeedVersion): UseItOnSnippet {
  const title = "Harvester";
  if (!harvesterFormats.includes(version.format))
    return unavailable(
      "harvester",
      title,
      "yaml",
      `Harvester takes qcow2, raw and ISO images; this version is ${version.format}. Convert it to qcow2 and offer that version instead.`,
    );
  // VirtualMachineImageSpec (harvester pkg/apis/harvesterhci.io/v1beta1/image.go): displayName,
  // sourceType download|upload|export-from-volume, url, checksum (sha512 hex), storageClassParameters.
  const manifest = {
    apiVersion: "harvesterhci.io/v1beta1",
    kind: "VirtualMachineImage",
    metadata: { name: kubernetesName(version), namespace: "default" },
    spec: {
      displayName: `${version.imageName} ${version.version}`,
      sourceType: "download",
      url: version.urls.download,
      checksum: version.sha512,
    },
  };
  return {
    platform: "harvester",
    title,
    language: "yaml",
    code: yamlDocument(manifest),
    note: "Apply with `kubectl apply -f image.yaml` against the Harvester cluster, or paste the URL and sha512 into Images → Create. The default (Longhorn backing image) backend checks the sha512; the CDI backend does not yet (harvester/harvester#10501).",
  };
}

// Glance disk_format values: ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, ploop, iso.
const glanceDiskFormat: Record<DiskFormat, string> = {
  raw: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vhd: "vhd",
  vhdx: "vhdx",
  vdi: "vdi",
  iso: "iso",
};

function glance(version: FeedVersion): UseItOnSnippet {
  return {
    platform: "glance",
    title: "OpenStack Glance",
    language: "shell",
    code: [
      "glance image-create-via-import \\",
      "  --import-method web-download \\",
      `  --uri ${shellQuote(version.urls.download)} \\`,
      `  --disk-format ${glanceDiskFormat[version.format]} \\`,
      "  --container-format bare \\",
      `  --name ${shellQuote(`${version.imageName} ${version.version}`)}`,
    ].join("\n"),
    note:
      "web-download can't be given a checksum: Glance hashes what it stored into os_hash_value, with " +
      `os_hash_algo sha512 unless the cloud changed hashing_algorithm. \`glance image-show\` must then show os_hash_value ${version.sha512} ` +
      `(and the legacy md5 checksum ${version.md5}). The cloud must allow web-download, by default only from ports 80 and 443.`,
  };
}

function incus(version: FeedVersion, links: UseItOnLinks): UseItOnSnippet {
  const title = "Incus / LXD";
  if (!links.feed) return unavailable("incus", title, "shell", NO_FEED_NOTE);
  // The simplestreams feed lists qcow2 disks (ftype disk1.img) with the LXD/Incus metadata tarball.
  if (version.format !== "qcow2")
    return unavailable(
      "incus",
      title,
      "shell",
      `Incus and LXD take VM images as qcow2; this version is ${version.format}. Convert it to qcow2 and offer that version instead.`,
    );
  // The client reads `<remote URL>/streams/v1/index.json` (lxd shared/simplestreams), so the remote
  // is the feed's base itself, without its trailing slash.
  const remote = links.feed.base.replace(/\/+$/, "");
  const alias = `${version.imageSlug}/${version.channels[0] ?? version.version}`;
  const image = shellQuote(`hangar:${alias}`);
  const code = [
    "# Incus",
    `incus remote add hangar ${shellQuote(remote)} --protocol simplestreams --public`,
    `incus launch ${image} vm1 --vm`,
    "",
    "# LXD",
    `lxc remote add hangar ${shellQuote(remote)} --protocol simplestreams --public`,
    `lxc launch ${image} vm1 --vm`,
  ].join("\n");
  const notes = [
    version.channels.length > 0
      ? `\`${alias}\` follows the ${version.channels[0]} channel, so a later launch may get a newer version.`
      : `\`${alias}\` names this version.`,
    `The image is for ${version.arch} hosts.`,
  ];
  if (!remote.startsWith("https://"))
    notes.push("Incus and LXD add simplestreams remotes over HTTPS only: serve Hangar over HTTPS.");
  return { platform: "incus", title, language: "shell", code, note: notes.join(" ") };
}

function terraform(links: UseItOnLinks): UseItOnSnippet {
  const title = "Terraform";
  if (!links.channelLookup)
    return unavailable(
      "terraform",
      title,
      "hcl",
      links.feed
        ? "Terraform reads a channel's lookup, and no published channel points at this version."
        : NO_FEED_NOTE,
    );
  // hashicorp/http's data source: url, request_headers; response_body (body is deprecated), status_code.
  // The fields read are ChannelAnswer's (lib/feeds/channel-lookup.ts).
  const code = [
    'data "http" "hangar_channel" {',
    `  url = ${hclString(links.channelLookup)}`,
    "  request_headers = {",
    '    Accept = "application/json"',
    "  }",
    "",
    "  lifecycle {",
    "    postcondition {",
    "      condition     = self.status_code == 200",
    '      error_message = "The Hangar channel lookup did not answer 200: is the feed revoked?"',
    "    }",
    "  }",
    "}",
    "",
    "locals {",
    "  hangar_image = jsondecode(data.http.hangar_channel.response_body)",
    "}",
    "",
    "# Hand these to the platform's provider (an image or download resource's URL and checksum).",
    'output "image_version" {',
    "  value = local.hangar_image.version.version",
    "}",
    "",
    'output "image_url" {',
    "  value = local.hangar_image.download.url",
    "}",
    "",
    'output "image_sha256" {',
    "  value = local.hangar_image.version.sha256",
    "}",
  ].join("\n");
  return {
    platform: "terraform",
    title,
    language: "hcl",
    code,
    note: "The lookup answers with the channel's current version, so each plan picks up a newly approved one.",
  };
}

function curl(version: FeedVersion): UseItOnSnippet {
  // A feed URL ends with the file's name; the API's download URL does not, and needs a token.
  const viaApi = new URL(version.urls.download).pathname.startsWith("/api/");
  const file = viaApi ? feedFileName(version) : downloadFileName(version.urls.download);
  return {
    platform: "curl",
    title: "curl",
    language: "shell",
    code: [
      viaApi
        ? `curl -fL -H "Authorization: Bearer $HANGAR_TOKEN" -o ${shellQuote(file)} ${shellQuote(version.urls.download)}`
        : `curl -fLO ${shellQuote(version.urls.download)}`,
      `echo ${shellQuote(`${version.sha256}  ${file}`)} | sha256sum -c`,
    ].join("\n"),
    note: `sha512: ${version.sha512}  md5: ${version.md5}`,
  };
}
