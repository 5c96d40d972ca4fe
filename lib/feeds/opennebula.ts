// OpenNebula's `one` MarketPlace driver, answered from a feed: the appliance index it fetches, the
// paths it derives from each appliance, the VM template it turns into VMTEMPLATE64, and the text an
// operator pastes to add the feed as a marketplace. Everything here follows what the driver
// (src/market_mad/remotes/one/monitor in OpenNebula/one) and oned really read, which is narrower and
// stricter than the public marketplace's YAML suggests; opennebula.test.ts cites the lines.
import {
  diskBuses,
  firmwares,
  rootPasswordPolicies,
  type Architecture,
  type DiskBus,
  type DiskFormat,
  type VmTemplate,
} from "@/db/enums";
import { isUuid } from "@/lib/ids";
import type { FeedContext, FeedVersion } from "./types";

/** PoolObjectSQL::INVALID_NAME_CHARS: oned refuses any object name with one of these. */
export const openNebulaForbiddenNameChars = "&|:\\\";/'#{}$<>\t\n\v\f\r";
/** PoolObjectSQL::name_is_valid counts bytes, not characters. */
export const openNebulaNameMaxBytes = 128;

const namePrefix = "Hangar - ";
/** How much of a token feed's name its app names carry: the image's name keeps most of the 128 bytes. */
const feedNameMaxBytes = 40;
const forbiddenNameChar = /[&|:\\";/'#{}$<>]/g;

export interface OpenNebulaApplianceFile {
  name: string;
  /** Not read by the driver (it downloads from the fixed appliance path); kept for people and tools. */
  url: string;
  type: "OS" | "CDROM";
  dev_prefix: "vd" | "sd" | "hd";
  driver: string;
  /** The virtual size in bytes: the driver turns it into the image's SIZE in MiB. */
  size: number;
  md5: string;
}

export interface OpenNebulaAppliance {
  _id: { $oid: string };
  name: string;
  type: "IMAGE";
  version: string;
  publisher: string;
  short_description: string;
  description: string;
  tags: string[];
  format: string;
  creation_time: number;
  "os-arch": Architecture;
  hypervisor: "KVM";
  /** JSON text whose leaves are all strings; the driver drops the whole template otherwise. */
  opennebula_template: string;
  files: [OpenNebulaApplianceFile];
}

export interface OpenNebulaIndex {
  sEcho: 1;
  appliances: OpenNebulaAppliance[];
}

export type OpenNebulaTemplateValue = string | Record<string, string>;
export type OpenNebulaTemplate = Record<string, OpenNebulaTemplateValue>;

/** The ENDPOINT to give the marketplace: the driver appends "/appliance" (and "appliance/<id>/download/0"). */
export function openNebulaEndpoint(feedBase: string): string {
  return `${feedBase.endsWith("/") ? feedBase : `${feedBase}/`}opennebula/`;
}

/** Where the driver downloads an appliance from, relative to the endpoint (a fixed path it builds itself). */
export function applianceDownloadPath(id: string): string {
  return `appliance/${id}/download/0`;
}

/**
 * An appliance id: the version's id for a version's entry, `<versionId>.<channel as base64url>` for
 * a channel's. A channel's id names the version it points at, so a download started from one index
 * gets the bytes (and md5) that index announced even if the channel moves meanwhile, and oned sees a
 * new SOURCE and refreshes the app when it does.
 */
export function applianceId(versionId: string, channel?: string): string {
  return channel === undefined ? versionId : `${versionId}.${Buffer.from(channel, "utf8").toString("base64url")}`;
}

export function parseApplianceId(id: string): { versionId: string; channel?: string } | null {
  const [versionPart, channelPart, ...rest] = id.split(".");
  if (!versionPart || !isUuid(versionPart) || rest.length > 0) return null;
  const versionId = versionPart.toLowerCase();
  if (channelPart === undefined) return { versionId };
  const channel = Buffer.from(channelPart, "base64url").toString("utf8");
  // Only the one canonical spelling of a channel is an id; anything else is not ours.
  if (!channel || Buffer.from(channel, "utf8").toString("base64url") !== channelPart) return null;
  return { versionId, channel };
}

export type OpenNebulaRoute =
  { kind: "index" } | { kind: "download" | "page"; id: string; versionId: string; channel?: string };

/**
 * Which request under `<feed>/opennebula/` this is. OpenNebula 7 ends the ENDPOINT with a slash and
 * then asks for "/appliance", so the index arrives as `//appliance`; older ones ask `appliance`.
 * `appliance/<id>` is the app's LINK, which Sunstone shows people (monitor:178). Accepts the tail
 * as a string or as the route's path segments.
 */
export function matchOpenNebulaPath(tail: string | readonly string[]): OpenNebulaRoute | null {
  const path = (typeof tail === "string" ? tail : tail.join("/")).replace(/^\/+/, "");
  if (/^appliance\/?$/.test(path)) return { kind: "index" };
  const match = /^appliance\/([^/]+)(\/download(?:\/0)?)?\/?$/.exec(path);
  if (!match) return null;
  const id = match[1]!;
  const parsed = parseApplianceId(id);
  return parsed ? { kind: match[2] ? "download" : "page", id, ...parsed } : null;
}

/** The index the driver parses: one entry per offered version and one per offered channel. */
export function applianceIndex(versions: readonly FeedVersion[], context: FeedContext): OpenNebulaIndex {
  const ordered = [...versions].sort(byImageThenNewest);
  const prefix = appNamePrefix(context);
  const drafts: Draft[] = [];
  for (const version of ordered) {
    for (const channel of [...version.channels].sort()) drafts.push(draftFor(version, prefix, channel));
    drafts.push(draftFor(version, prefix));
  }
  const names = uniqueNames(drafts);
  // Thousands of versions share a handful of templates and publishers: build each text once.
  const shared = { templates: new Map<string, string>(), texts: new Map<string, string>() };
  return {
    sEcho: 1,
    appliances: drafts.map((draft, index) => toAppliance(draft, names[index]!, context, shared)),
  };
}

interface Shared {
  templates: Map<string, string>;
  texts: Map<string, string>;
}

function sharedText(shared: Shared, text: string, maxChars: number): string {
  const key = `${maxChars}|${text}`;
  let out = shared.texts.get(key);
  if (out === undefined) {
    out = templateText(text, maxChars);
    shared.texts.set(key, out);
  }
  return out;
}

function sharedTemplate(shared: Shared, vm: VmTemplate, arch: Architecture): string {
  const key = `${arch}|${vm.vcpu}|${vm.memoryMiB}|${vm.diskBus}|${vm.firmware}|${vm.context.network}|${vm.context.sshKey}|${vm.context.rootPassword}`;
  let out = shared.templates.get(key);
  if (out === undefined) {
    out = JSON.stringify(openNebulaVmTemplate(vm, arch));
    shared.templates.set(key, out);
  }
  return out;
}

interface Draft {
  version: FeedVersion;
  channel?: string;
  id: string;
  /** The name's parts: the image's name may be shortened to fit, the prefix and tail are kept whole. */
  prefix: string;
  head: string;
  tail: string;
}

function draftFor(version: FeedVersion, prefix: string, channel?: string): Draft {
  const head = cleanName(version.imageName) || cleanName(version.imageSlug) || "image";
  const tail = channel === undefined ? ` ${cleanName(version.version)}` : ` (${cleanName(channel)})`;
  return { version, channel, id: applianceId(version.versionId, channel), prefix, head, tail };
}

/**
 * What every app name of a feed begins with. App names are unique across all the marketplaces of
 * one OpenNebula, so two feeds (two projects', say) offering the same image there would collide:
 * a token feed's names carry the feed's name ("Hangar OpenNebula prod - Debian 12 base (stable)");
 * the one public feed's are plain ("Hangar - Debian 12 base (stable)").
 */
export function appNamePrefix(feed: Pick<FeedContext, "name" | "public">): string {
  if (feed.public) return namePrefix;
  const name = truncateUtf8(cleanName(feed.name), feedNameMaxBytes);
  return name ? `Hangar ${name} - ` : namePrefix;
}

/**
 * Whether two token feeds' names would give their OpenNebula apps the same names (OpenNebula looks
 * names up across every marketplace, case- and accent-blind); a name that cleans to nothing would
 * clash with the public feed's.
 */
export function feedNamesClash(a: string, b: string): boolean {
  return nameKey(appNamePrefix({ name: a, public: false })) === nameKey(appNamePrefix({ name: b, public: false }));
}

/** A feed name that leaves nothing of its own in OpenNebula's names (only forbidden characters). */
export function feedNameIsBlankOnPlatforms(name: string): boolean {
  return appNamePrefix({ name, public: false }) === namePrefix;
}

function byImageThenNewest(a: FeedVersion, b: FeedVersion): number {
  return (
    compare(a.imageName, b.imageName) ||
    compare(a.imageId, b.imageId) ||
    b.createdAt.getTime() - a.createdAt.getTime() ||
    compare(a.versionId, b.versionId)
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Names oned will accept and never confuse. App names are looked up across every marketplace of
 * the cloud (MarketPlaceAppPool::import, get(name, 0)), and an app whose name is taken updates the
 * other one instead of appearing, so two entries here must never share a name, even as MySQL
 * compares them (case- and accent-insensitive, trailing spaces ignored). Colliding entries get the
 * publisher, then a counter.
 */
function uniqueNames(drafts: Draft[]): string[] {
  const names = drafts.map((draft) => fitName(draft.prefix, draft.head, draft.tail));
  let keys = names.map(nameKey);
  const counts = countKeys(keys);
  drafts.forEach((draft, index) => {
    if (counts.get(keys[index]!)! > 1) {
      names[index] = fitName(draft.prefix, draft.head, `${draft.tail} [${cleanName(draft.version.publisher) || "?"}]`);
    }
  });
  keys = names.map(nameKey);
  const stillShared = countKeys(keys);
  const taken = new Set<string>();
  drafts.forEach((draft, index) => {
    const key = keys[index]!;
    if (stillShared.get(key)! > 1 && taken.has(key)) {
      let counter = 2;
      let candidate: string;
      do {
        candidate = fitName(draft.prefix, draft.head, `${draft.tail} [${counter}]`);
        counter += 1;
      } while (taken.has(nameKey(candidate)) || stillShared.has(nameKey(candidate)));
      names[index] = candidate;
    }
    taken.add(nameKey(names[index]!));
  });
  return names;
}

function countKeys(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

function nameKey(name: string): string {
  const lower = name.toLowerCase().trim();
  return /^[\x20-\x7e]*$/.test(lower) ? lower : lower.normalize("NFKD").replace(/\p{M}/gu, "");
}

/** Text made safe for an OpenNebula name: forbidden characters become "-", controls and runs of space one space. */
function cleanName(text: string): string {
  return text
    .replace(/[\t\n\v\f\r]/g, " ")
    .replace(/\p{Cc}/gu, "")
    .replace(forbiddenNameChar, "-")
    .replace(/\s+/g, " ")
    .trim();
}

function fitName(prefix: string, head: string, tail: string): string {
  const budget = openNebulaNameMaxBytes - utf8Bytes(prefix) - utf8Bytes(tail);
  if (budget >= utf8Bytes(head)) return `${prefix}${head}${tail}`.trim();
  if (budget >= 8) return `${prefix}${truncateUtf8(head, budget)}${tail}`.trim();
  return truncateUtf8(`${prefix}${head}${tail}`, openNebulaNameMaxBytes).trim();
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** At most maxBytes of UTF-8, cut between characters and marked with "…" when cut. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const ellipsis = "…";
  let out = "";
  let used = utf8Bytes(ellipsis);
  for (const char of text) {
    const size = utf8Bytes(char);
    if (used + size > maxBytes) break;
    out += char;
    used += size;
  }
  return `${out.trimEnd()}${ellipsis}`;
}

/**
 * Text the driver prints into the APP template as NAME="..." (print_var escapes only the quote):
 * one line, no "]]>" (the template lexer's CDATA rule would take the line), and no trailing
 * backslash, which would escape the closing quote and swallow the next attribute.
 */
function templateText(text: string, maxChars = 200): string {
  if (text.length <= maxChars && plainText.test(text) && !text.includes("]]>")) return text;
  let out = text
    .replace(/\p{Cc}/gu, " ")
    .replace(/\s+/g, " ")
    .replaceAll("]]>", "]] >")
    .trim();
  if (out.length > maxChars)
    out = `${[...out]
      .slice(0, maxChars - 1)
      .join("")
      .trimEnd()}…`;
  return out.replace(/\\+$/, "");
}

// One line of printable text without backslashes, single spaces between words.
const plainText = /^[^\p{Cc}\s\\]+(?: [^\p{Cc}\s\\]+)*$/u;

function toAppliance(draft: Draft, name: string, context: FeedContext, shared: Shared): OpenNebulaAppliance {
  const { version, channel } = draft;
  const deprecated = version.releaseStatus === "deprecated";
  const label = `${version.imageName} ${version.version}`;
  const summary = channel === undefined ? label : `${label}, the current version of channel ${channel}`;
  const cdrom = version.format === "iso";
  return {
    _id: { $oid: draft.id },
    name,
    type: "IMAGE",
    version: templateText(version.version, 128),
    publisher: sharedText(shared, version.publisher, 128),
    short_description: templateText(`${deprecated ? "Deprecated: " : ""}${summary}`),
    description: longDescription(version, channel, context),
    tags: tagsFor(version, channel, shared),
    format: qemuFormat(version.format),
    creation_time: Math.floor((version.approvedAt ?? version.createdAt).getTime() / 1000),
    "os-arch": version.arch,
    hypervisor: "KVM",
    opennebula_template: sharedTemplate(shared, version.vmTemplate, version.arch),
    files: [
      {
        name: templateText(`${version.imageSlug}-${version.version}`, 128),
        url: version.urls.download,
        type: cdrom ? "CDROM" : "OS",
        // QEMU has no virtio CD-ROM: an ISO on a virtio template goes on the SCSI bus instead.
        dev_prefix: cdrom && version.vmTemplate.diskBus === "virtio" ? "sd" : devPrefix[version.vmTemplate.diskBus],
        driver: qemuFormat(version.format),
        size: version.virtualSize,
        md5: version.md5,
      },
    ],
  };
}

const devPrefix: Record<DiskBus, "vd" | "sd" | "hd"> = { virtio: "vd", scsi: "sd", sata: "sd", ide: "hd" };

/** The format as qemu-img names it, which is what OpenNebula's image FORMAT and DRIVER hold. */
function qemuFormat(format: DiskFormat): string {
  if (format === "vhd") return "vpc";
  if (format === "iso") return "raw";
  return format;
}

function tagsFor(version: FeedVersion, channel: string | undefined, shared: Shared): string[] {
  const tags = [
    "hangar",
    ...version.tags,
    version.os,
    version.osVersion ? `${version.os} ${version.osVersion}` : "",
    version.arch,
    version.format,
    channel === undefined ? "" : `channel ${channel}`,
    version.releaseStatus === "deprecated" ? "deprecated" : "",
  ];
  // The driver joins tags with ", ": a comma inside one would read as two.
  const cleaned = tags.map((tag) => sharedText(shared, tag.replaceAll(",", " "), 64)).filter(Boolean);
  return [...new Set(cleaned)];
}

/** Read by people (OpenNebula's own marketplace shows it), not by the driver: kept short. */
function longDescription(version: FeedVersion, channel: string | undefined, context: FeedContext): string {
  const lines = [version.imageDescription.trim().slice(0, 1000)];
  if (version.releaseStatus === "deprecated") {
    lines.push("**Deprecated**: still offered, but a newer version should be used.");
  }
  if (channel !== undefined) lines.push(`Channel \`${channel}\` points at version ${version.version} now.`);
  lines.push(
    `${version.os} ${version.osVersion}, ${version.arch}, ${version.format}, published by ${version.publisher} ` +
      `through the Hangar feed "${context.name}". sha256 ${version.sha256}`,
  );
  return lines.filter(Boolean).join("\n\n");
}

/**
 * The VM template offered with an image, in the shape the driver's template_to_str accepts: every
 * value a non-empty string or a hash of non-empty strings (an integer anywhere makes it raise, and
 * the template is silently dropped), no double quote or backslash (it writes values between quotes
 * without escaping them). Keys as OpenNebula's own marketplace apps use them.
 */
export function openNebulaVmTemplate(vm: VmTemplate, arch: Architecture): OpenNebulaTemplate {
  const os: Record<string, string> = { ARCH: arch };
  if (vm.firmware === "uefi") {
    // "UEFI" lets libvirt pick the firmware (LibVirtDriverKVM: is_efi_auto); aarch64 gets AAVMF from the driver.
    os.FIRMWARE = "UEFI";
    os.FIRMWARE_SECURE = "NO";
  }
  // OpenNebula puts "sd" disks on SCSI unless the OS section says SATA.
  if (vm.diskBus === "sata") os.SD_DISK_BUS = "sata";
  if (vm.diskBus === "scsi") os.SD_DISK_BUS = "scsi";

  const contextSection: Record<string, string> = {};
  const template: OpenNebulaTemplate = {
    CPU: String(vm.vcpu),
    VCPU: String(vm.vcpu),
    MEMORY: String(vm.memoryMiB),
    OS: os,
    GRAPHICS: { LISTEN: "0.0.0.0", TYPE: "VNC" },
  };
  if (vm.context.network) contextSection.NETWORK = "YES";
  if (vm.context.sshKey) contextSection.SSH_PUBLIC_KEY = "$USER[SSH_PUBLIC_KEY]";
  if (vm.context.rootPassword === "from-context") {
    contextSection.PASSWORD = "$PASSWORD";
    template.USER_INPUTS = { PASSWORD: "M|password|Root password" };
  } else if (vm.context.rootPassword === "random") {
    contextSection.START_SCRIPT_BASE64 = Buffer.from(randomRootPasswordScript, "utf8").toString("base64");
  }
  if (Object.keys(contextSection).length > 0) template.CONTEXT = contextSection;
  return template;
}

// OpenNebula's contextualization has no random password of its own: set one at first boot and show
// it on the VM's console once, as cloud-init's chpasswd RANDOM does.
const randomRootPasswordScript = `#!/bin/sh
marker=/etc/hangar-root-password-set
[ -e "$marker" ] && exit 0
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "root:$password" | chpasswd && touch "$marker" && echo "Root password: $password" > /dev/console
`;

/** Why a template would not reach OpenNebula intact, in words for the form that saves it; empty when fine. */
export function validateOpenNebulaTemplate(vm: VmTemplate, imageName: string): string[] {
  const problems: string[] = [];
  const forbidden = [...new Set([...imageName].filter((char) => openNebulaForbiddenNameChars.includes(char)))];
  if (forbidden.length > 0) {
    const shown = forbidden.map((char) => (/\s/.test(char) ? JSON.stringify(char) : char)).join(" ");
    problems.push(
      `OpenNebula does not allow ${shown} in names; rename the image without ${forbidden.length === 1 ? "it" : "them"} ` +
        `(the marketplace would show "${cleanName(imageName)}").`,
    );
  }
  if (!imageName.trim()) problems.push("Give the image a name: OpenNebula needs one for the marketplace app.");
  const longest = `${namePrefix}${cleanName(imageName)} (latest)`;
  if (utf8Bytes(longest) > openNebulaNameMaxBytes) {
    problems.push(
      `The image name is too long for OpenNebula: "${longest}" is ${utf8Bytes(longest)} bytes and names may have ` +
        `${openNebulaNameMaxBytes}; shorten the image name by ${utf8Bytes(longest) - openNebulaNameMaxBytes} characters or more.`,
    );
  }
  if (!Number.isInteger(vm.vcpu) || vm.vcpu < 1 || vm.vcpu > 256) {
    problems.push("vCPUs must be a whole number from 1 to 256.");
  }
  if (!Number.isInteger(vm.memoryMiB) || vm.memoryMiB < 64 || vm.memoryMiB > 4 * 1024 * 1024) {
    problems.push("Memory must be a whole number of MiB from 64 MiB to 4 TiB (4194304 MiB).");
  }
  if (!diskBuses.includes(vm.diskBus)) problems.push(`The disk bus must be one of ${diskBuses.join(", ")}.`);
  if (!firmwares.includes(vm.firmware)) problems.push(`The firmware must be one of ${firmwares.join(", ")}.`);
  if (typeof vm.context?.network !== "boolean" || typeof vm.context?.sshKey !== "boolean") {
    problems.push("Say whether the VM gets its network and SSH key from OpenNebula's context (yes or no).");
  }
  if (!rootPasswordPolicies.includes(vm.context?.rootPassword)) {
    problems.push(`The root password policy must be one of ${rootPasswordPolicies.join(", ")}.`);
  }
  if (problems.length === 0) problems.push(...templateShapeProblems(openNebulaVmTemplate(vm, "x86_64")));
  return problems;
}

/** What the driver's template_to_str would choke on or drop (see openNebulaVmTemplate). */
export function templateShapeProblems(template: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const checkLeaf = (path: string, value: unknown) => {
    if (typeof value !== "string") problems.push(`${path} is not text; OpenNebula would drop the whole template.`);
    else if (value === "") problems.push(`${path} is empty; OpenNebula would leave it out.`);
    else if (/["\\]/.test(value))
      problems.push(`${path} contains a quote or backslash, which OpenNebula would misread.`);
  };
  for (const [key, value] of Object.entries(template)) {
    if (!/^[A-Z0-9_]+$/.test(key)) problems.push(`${key} is not an OpenNebula attribute name.`);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [inner, leaf] of Object.entries(value)) {
        if (!/^[A-Z0-9_]+$/.test(inner)) problems.push(`${key}/${inner} is not an OpenNebula attribute name.`);
        checkLeaf(`${key}/${inner}`, leaf);
      }
    } else {
      checkLeaf(key, value);
    }
  }
  return problems;
}

/** A name oned accepts for the marketplace or an exported image: forbidden characters replaced, at most 128 bytes. */
export function openNebulaSafeName(text: string): string {
  return truncateUtf8(cleanName(text), openNebulaNameMaxBytes) || "hangar";
}

/** The template `onemarket create` takes to add a feed as a marketplace (MARKET_MAD one, the feed's ENDPOINT). */
export function onemarketCreateTemplate(feedUrl: string, name: string): string {
  return [
    `NAME = "${openNebulaSafeName(name)}"`,
    `MARKET_MAD = "one"`,
    `ENDPOINT = "${openNebulaEndpoint(feedUrl)}"`,
    `DESCRIPTION = "Images published by Hangar, read-only"`,
    "",
  ].join("\n");
}

/** The whole paste: write the template to a file and create the marketplace from it. */
export function onemarketCreateCommand(feedUrl: string, name: string): string {
  return `cat > hangar-marketplace.tmpl <<'EOF'\n${onemarketCreateTemplate(feedUrl, name)}EOF\nonemarket create hangar-marketplace.tmpl\n`;
}

/**
 * Exports an app into an image (and its VM template) in a datastore. `onemarketapp export` takes no
 * marketplace: app names are unique across all of them, so the app's name alone finds it.
 */
export function onemarketappExportCommand(appName: string, imageName: string, datastore = "default"): string {
  return `onemarketapp export ${shellQuote(appName)} ${shellQuote(openNebulaSafeName(imageName))} --datastore ${shellQuote(datastore)}`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
