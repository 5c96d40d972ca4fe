// The OpenNebula appliance index against what OpenNebula itself does with it. `monitor` below is a
// line-by-line port of the `one` MarketPlace driver (OpenNebula/one, commit f847cf2e,
// src/market_mad/remotes/one/monitor), including where Ruby would raise, and `parseAppTemplate`
// reads its output the way oned's template lexer does (src/parsers/template_parser.l), so each
// assertion is about the attribute OpenNebula ends up with, not about our own JSON.
import { describe, expect, it } from "vitest";
import { defaultVmTemplate, type VmTemplate } from "@/db/enums";
import {
  applianceDownloadPath,
  applianceId,
  applianceIndex,
  appNamePrefix,
  matchOpenNebulaPath,
  onemarketappExportCommand,
  onemarketCreateCommand,
  onemarketCreateTemplate,
  openNebulaForbiddenNameChars,
  openNebulaVmTemplate,
  parseApplianceId,
  templateShapeProblems,
  validateOpenNebulaTemplate,
} from "./opennebula";
import type { FeedContext, FeedVersion } from "./types";

// As the public feed, whose app names carry no feed name (a token feed's do: see "app names per feed").
const context: FeedContext = { base: "https://hangar.example/feeds/s3cr3t/", name: "ops", public: true };
const endpoint = "https://hangar.example/feeds/s3cr3t/opennebula/";
const GiB = 1024 ** 3;

let counter = 0;
function feedVersion(overrides: Partial<FeedVersion> = {}): FeedVersion {
  counter += 1;
  const versionId = `0b7c7a52-3c1e-4c4e-9a3f-${String(counter).padStart(12, "0")}`;
  return {
    versionId,
    imageId: "11111111-2222-4333-8444-555555555555",
    imageSlug: "debian-12-base",
    imageName: "Debian 12 base",
    imageDescription: "Debian 12 with the contextualization package.",
    os: "debian",
    osVersion: "12",
    arch: "x86_64",
    version: "12.7.0",
    releaseStatus: "approved",
    channels: [],
    format: "qcow2",
    fileSize: 412_345_678,
    virtualSize: 3 * GiB + 1,
    sha256: "a".repeat(64),
    sha512: "b".repeat(128),
    md5: "0123456789abcdef0123456789abcdef",
    createdAt: new Date("2026-11-02T10:00:00.500Z"),
    approvedAt: new Date("2026-11-03T09:30:15.900Z"),
    publisher: "Platform team",
    tags: ["base"],
    vmTemplate: defaultVmTemplate,
    urls: { download: `${context.base}files/${versionId}/debian-12-base-12.7.0.qcow2` },
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// The driver, ported. Ruby semantics kept where they matter: `"#{val}"`, `x.empty?` raising
// NoMethodError on numbers and booleans, and `rescue StandardError` turning that into "no template".
// ---------------------------------------------------------------------------------------------

class RubyNoMethodError extends Error {}

function rubyEmpty(value: unknown): boolean {
  if (typeof value === "string" || Array.isArray(value)) return value.length === 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length === 0;
  throw new RubyNoMethodError(`undefined method 'empty?' for ${typeof value}`);
}

function rubyToS(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return JSON.stringify(value);
}

// monitor:226-233 print_var
function printVar(out: string[], name: string, value: unknown): void {
  if (value === null || value === undefined) return;
  if (typeof value === "string" && value === "") return;
  const text = typeof value === "string" ? value.replaceAll('"', '\\"') : rubyToS(value);
  out.push(`${name}="${text}"\n`);
}

// monitor:235-272 template_to_str
function templateToStr(template: Record<string, unknown>): string {
  return Object.entries(template)
    .map(([key, value]) => {
      if (value === null || value === undefined || rubyEmpty(value)) return null;
      if (Array.isArray(value)) {
        return value
          .map((item) => {
            if (item === null || rubyEmpty(item)) return null;
            const inner =
              typeof item === "object"
                ? Object.entries(item as Record<string, unknown>)
                    .map(([k, v]) => (v === null || rubyEmpty(v) ? null : `${k.toUpperCase()}="${rubyToS(v)}"`))
                    .filter((pair) => pair !== null)
                    .join(",")
                : `"${rubyToS(item)}"`;
            return `${key.toUpperCase()} = [ ${inner} ]`;
          })
          .filter((line) => line !== null)
          .join("\n");
      }
      if (typeof value === "object") {
        const pairs = Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => (v === null || rubyEmpty(v) ? null : `${k.toUpperCase()} ="${rubyToS(v)}"`))
          .filter((pair) => pair !== null)
          .join(",");
        return `${key.toUpperCase()} = [ ${pairs}]\n`;
      }
      if (typeof value === "string") return `${key.toUpperCase()} = "${value}"`;
      return null;
    })
    .filter((line) => line !== null)
    .join("\n");
}

// monitor:313-332
function appHypervisor(app: Record<string, unknown>): string {
  const hypervisor = app.hypervisor as string | undefined;
  if (hypervisor === "ALL" || !hypervisor) return "kvm";
  return hypervisor.toLowerCase();
}
function appArch(app: Record<string, unknown>): string {
  const arch = app["os-arch"] as string | undefined;
  if (arch === "amd64") return "x86_64";
  if (arch === "arm64") return "aarch64";
  if (!arch) return "all";
  return arch;
}

// monitor:52-57
const armOsSection = {
  ARCH: "aarch64",
  FIRMWARE: "/usr/share/AAVMF/AAVMF_CODE.fd",
  FIRMWARE_SECURE: "no",
  MACHINE: "virt",
};

// monitor:274-311 generate_vm_template64: any error inside the begin block means no template.
function generateVmTemplate64(app: Record<string, unknown>): string | undefined {
  const ot = app.opennebula_template;
  if (ot === null || ot === undefined || rubyEmpty(ot)) return undefined;
  try {
    if (typeof ot !== "string") throw new TypeError("no implicit conversion into String");
    const template = JSON.parse(ot) as Record<string, unknown>;
    const arch = appArch(app);
    const hypervisor = appHypervisor(app);
    let requirements = `HYPERVISOR=${hypervisor}`;
    if (["amd64", "aarch64"].includes(arch)) requirements += ` & ARCH=${arch}`;
    if (template.SCHED_REQUIREMENTS) template.SCHED_REQUIREMENTS += ` & ${requirements}`;
    else template.SCHED_REQUIREMENTS = requirements;
    if (arch === "aarch64") {
      template.OS = template.OS ? { ...(template.OS as object), ...armOsSection } : armOsSection;
    }
    template.HYPERVISOR = hypervisor;
    return Buffer.from(templateToStr(template)).toString("base64");
  } catch {
    return undefined;
  }
}

// monitor:108-128 render_image
function renderImage(out: string[], app: Record<string, unknown>): void {
  const files = app.files as Record<string, unknown>[] | undefined;
  if (!files || !files[0]) return;
  const file = files[0];
  let size = 0;
  if (Math.trunc(Number.parseFloat(rubyToS(file.size))) !== 0) {
    size = Math.ceil(Number.parseFloat(rubyToS(file.size)) / 2 ** 20);
  }
  printVar(out, "SIZE", size);
  printVar(out, "MD5", file.md5);
  const tmpl64: string[] = [];
  printVar(tmpl64, "DEV_PREFIX", file.dev_prefix);
  printVar(tmpl64, "TYPE", file.type);
  if (tmpl64.length > 0) printVar(out, "APPTEMPLATE64", Buffer.from(tmpl64.join("")).toString("base64"));
  printVar(out, "VMTEMPLATE64", generateVmTemplate64(app));
}

// monitor:59-68 (the URL it is given) and 167-222 fetch_appliances: one APP template per appliance.
function monitor(endpointSetting: string, body: string): { requested: string; apps: string[] } {
  const url = endpointSetting.endsWith("/") ? endpointSetting : `${endpointSetting}/`;
  const list = JSON.parse(body) as { appliances: Record<string, unknown>[] };
  const apps: string[] = [];
  for (const app of list.appliances) {
    const id = (app._id as Record<string, string>).$oid;
    const link = `${url}appliance/${id}`;
    const source = `${link}/download/0`;
    const out: string[] = [];
    if (!app.type) app.type = "IMAGE";
    printVar(out, "NAME", app.name);
    printVar(out, "SOURCE", source);
    printVar(out, "IMPORT_ID", id);
    printVar(out, "ORIGIN_ID", "-1");
    printVar(out, "TYPE", app.type);
    printVar(out, "PUBLISHER", app.publisher);
    printVar(out, "FORMAT", app.format);
    printVar(out, "DESCRIPTION", app.short_description);
    printVar(out, "VERSION", app.version);
    if (app.tags) printVar(out, "TAGS", (app.tags as string[]).join(", "));
    printVar(out, "REGTIME", app.creation_time);
    printVar(out, "LINK", link);
    printVar(out, "ARCHITECTURE", appArch(app));
    printVar(out, "HYPERVISOR", appHypervisor(app));
    if (app.type !== "IMAGE") continue;
    renderImage(out, app);
    apps.push(out.join(""));
  }
  return { requested: `${url}/appliance`, apps };
}

// template_parser.l:45-92: VARIABLE = "([^\"]|\\\")*" (longest match), or a bare word.
function parseAppTemplate(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  const pattern = /([A-Za-z0-9_]+)[ \t]*=[ \t]*(?:"((?:\\"|[^"])*)"|([^=#\s,[\]]+))/gy;
  let match: RegExpExecArray | null;
  let rest = text;
  while ((rest = rest.replace(/^\s+/, "")) && (match = pattern.exec(rest))) {
    attributes[match[1]!] = (match[2] ?? match[3]!).replaceAll('\\"', '"');
    rest = rest.slice(pattern.lastIndex);
    pattern.lastIndex = 0;
  }
  return attributes;
}

// src/pool/PoolObjectSQL.cc:27 and 552-590 name_is_valid.
function nameIsValid(name: string): boolean {
  const invalid = "&|:\\\";/'#{}$<>\t\n\v\f\r";
  return name !== "" && ![...name].some((char) => invalid.includes(char)) && Buffer.byteLength(name) <= 128;
}

function decode64(text: string | undefined): string {
  return Buffer.from(text ?? "", "base64").toString("utf8");
}

function appsFor(versions: FeedVersion[]) {
  const index = applianceIndex(versions, context);
  const { apps } = monitor(endpoint, JSON.stringify(index));
  return { index, apps: apps.map(parseAppTemplate) };
}

function leaves(value: unknown, path = ""): [string, unknown][] {
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => leaves(inner, `${path}/${key}`));
  }
  return [[path, value]];
}

describe("applianceIndex as the one driver reads it", () => {
  it("answers the shape the driver parses: sEcho 1 and an appliances array (monitor:173-176)", () => {
    const index = applianceIndex([feedVersion()], context);
    expect(index.sEcho).toBe(1);
    expect(Array.isArray(index.appliances)).toBe(true);
    expect(index.appliances).toHaveLength(1);
  });

  it("gives a version's entry every field the driver reads, as it reads it", () => {
    const version = feedVersion();
    const { index, apps } = appsFor([version]);
    const entry = index.appliances[0]!;
    const app = apps[0]!;

    // monitor:177 id = app['_id']['$oid'], used raw in the URL (178-179) and as IMPORT_ID (189).
    expect(entry._id).toEqual({ $oid: version.versionId });
    expect(app.IMPORT_ID).toBe(version.versionId);
    expect(app.SOURCE).toBe(`${endpoint}appliance/${version.versionId}/download/0`);
    expect(app.LINK).toBe(`${endpoint}appliance/${version.versionId}`);
    // monitor:187 NAME; oned refuses invalid names and renames them "imported--1" (MarketPlaceAppPool.cc:126-137).
    expect(app.NAME).toBe("Hangar - Debian 12 base 12.7.0");
    expect(nameIsValid(app.NAME!)).toBe(true);
    // monitor:185, 191, 207-209: only IMAGE apps get SIZE/MD5/APPTEMPLATE64.
    expect(entry.type).toBe("IMAGE");
    expect(app.TYPE).toBe("IMAGE");
    expect(app.PUBLISHER).toBe("Platform team");
    expect(app.FORMAT).toBe("qcow2");
    // monitor:194 DESCRIPTION comes from short_description; `description` is not read at all.
    expect(app.DESCRIPTION).toBe("Debian 12 base 12.7.0");
    expect(app.VERSION).toBe("12.7.0");
    // monitor:196 tags must be an array (join), or the whole monitor run raises.
    expect(Array.isArray(entry.tags)).toBe(true);
    expect(app.TAGS).toBe(entry.tags.join(", "));
    expect(entry.tags).toEqual(expect.arrayContaining(["hangar", "base", "debian", "x86_64", "qcow2"]));
    // monitor:198 REGTIME: whole epoch seconds, here the approval time.
    expect(entry.creation_time).toBe(Math.floor(version.approvedAt!.getTime() / 1000));
    expect(app.REGTIME).toBe(String(Math.floor(Date.parse("2026-11-03T09:30:15Z") / 1000)));
    // monitor:200-201, 313-332.
    expect(entry["os-arch"]).toBe("x86_64");
    expect(app.ARCHITECTURE).toBe("x86_64");
    expect(entry.hypervisor).toBe("KVM");
    expect(app.HYPERVISOR).toBe("kvm");
    // monitor:114 SIZE in MiB from files[0].size: the virtual size, rounded up, not the file's size.
    expect(entry.files[0].size).toBe(version.virtualSize);
    expect(app.SIZE).toBe(String(3 * 1024 + 1));
    expect(app.MD5).toBe(version.md5);
    // monitor:119-125 APPTEMPLATE64 becomes the image template on export (marketplaceapp_ext.rb:122-128).
    expect(parseAppTemplate(decode64(app.APPTEMPLATE64))).toEqual({ DEV_PREFIX: "vd", TYPE: "OS" });
    // Not read by the driver (it downloads from SOURCE), kept as OpenNebula's own marketplace serves them.
    expect(entry.files[0]).toMatchObject({ driver: "qcow2", url: version.urls.download, md5: version.md5 });
  });

  it("makes opennebula_template a JSON string of strings, which the driver turns into VMTEMPLATE64", () => {
    const { index, apps } = appsFor([feedVersion()]);
    const template = index.appliances[0]!.opennebula_template;
    expect(typeof template).toBe("string");
    for (const [path, leaf] of leaves(JSON.parse(template))) expect(typeof leaf, path).toBe("string");

    const vm = parseVmTemplate(decode64(apps[0]!.VMTEMPLATE64));
    expect(vm).toMatchObject({
      CPU: "1",
      VCPU: "1",
      MEMORY: "1024",
      HYPERVISOR: "kvm",
      SCHED_REQUIREMENTS: "HYPERVISOR=kvm",
      "OS/ARCH": "x86_64",
      "GRAPHICS/LISTEN": "0.0.0.0",
      "GRAPHICS/TYPE": "VNC",
      "CONTEXT/NETWORK": "YES",
      "CONTEXT/SSH_PUBLIC_KEY": "$USER[SSH_PUBLIC_KEY]",
    });
    expect(vm["CONTEXT/PASSWORD"]).toBeUndefined();
  });

  it("is right about the all-strings rule: one number and the driver silently drops the template", () => {
    const entry = applianceIndex([feedVersion()], context).appliances[0]!;
    const withNumber = {
      ...entry,
      opennebula_template: JSON.stringify({ ...JSON.parse(entry.opennebula_template), CPU: 1 }),
    };
    const nested = { ...entry, opennebula_template: JSON.stringify({ CONTEXT: { NETWORK: true } }) };
    const { apps } = monitor(endpoint, JSON.stringify({ sEcho: 1, appliances: [withNumber, nested, entry] }));
    expect(parseAppTemplate(apps[0]!).VMTEMPLATE64).toBeUndefined();
    expect(parseAppTemplate(apps[1]!).VMTEMPLATE64).toBeUndefined();
    expect(parseAppTemplate(apps[2]!).VMTEMPLATE64).toBeDefined();
  });

  it("keeps every template leaf a string for every combination an owner can save", () => {
    for (const diskBus of ["virtio", "scsi", "sata", "ide"] as const) {
      for (const firmware of ["bios", "uefi"] as const) {
        for (const rootPassword of ["locked", "random", "from-context"] as const) {
          for (const flag of [true, false]) {
            const vm: VmTemplate = {
              vcpu: 4,
              memoryMiB: 8192,
              diskBus,
              firmware,
              context: { network: flag, sshKey: !flag, rootPassword },
            };
            const template = openNebulaVmTemplate(vm, "x86_64");
            expect(templateShapeProblems(template)).toEqual([]);
            const entry = applianceIndex([feedVersion({ vmTemplate: vm })], context).appliances[0]!;
            const app = parseAppTemplate(monitor(endpoint, JSON.stringify({ appliances: [entry] })).apps[0]!);
            expect(app.VMTEMPLATE64, `${diskBus} ${firmware} ${rootPassword} ${flag}`).toBeDefined();
          }
        }
      }
    }
  });

  it("turns the owner's switches into OpenNebula's attributes: UEFI, the SD bus, dev_prefix, passwords", () => {
    const uefiSata: VmTemplate = {
      vcpu: 2,
      memoryMiB: 2048,
      diskBus: "sata",
      firmware: "uefi",
      context: { network: false, sshKey: false, rootPassword: "from-context" },
    };
    const ide: VmTemplate = {
      ...uefiSata,
      diskBus: "ide",
      firmware: "bios",
      context: { ...uefiSata.context, rootPassword: "random" },
    };
    const { apps } = appsFor([
      feedVersion({ vmTemplate: uefiSata }),
      feedVersion({ vmTemplate: ide, version: "12.6.0" }),
    ]);
    const [first, second] = apps.sort((a, b) => a.VERSION!.localeCompare(b.VERSION!)).reverse();

    const vm = parseVmTemplate(decode64(first!.VMTEMPLATE64));
    // LibVirtDriverKVM.cc:939 "UEFI" selects firmware automatically; the SD bus is read from OS/SD_DISK_BUS.
    expect(vm).toMatchObject({ "OS/FIRMWARE": "UEFI", "OS/FIRMWARE_SECURE": "NO", "OS/SD_DISK_BUS": "sata" });
    expect(vm).toMatchObject({ "CONTEXT/PASSWORD": "$PASSWORD", "USER_INPUTS/PASSWORD": "M|password|Root password" });
    expect(vm["CONTEXT/NETWORK"]).toBeUndefined();
    expect(vm["CONTEXT/SSH_PUBLIC_KEY"]).toBeUndefined();
    expect(parseAppTemplate(decode64(first!.APPTEMPLATE64)).DEV_PREFIX).toBe("sd");

    const random = parseVmTemplate(decode64(second!.VMTEMPLATE64));
    expect(parseAppTemplate(decode64(second!.APPTEMPLATE64)).DEV_PREFIX).toBe("hd");
    expect(random["OS/FIRMWARE"]).toBeUndefined();
    expect(random["CONTEXT/PASSWORD"]).toBeUndefined();
    expect(decode64(random["CONTEXT/START_SCRIPT_BASE64"])).toContain("chpasswd");
  });

  it("lets the driver add what aarch64 needs (monitor:286, 294-301)", () => {
    const { apps } = appsFor([
      feedVersion({ arch: "aarch64", vmTemplate: { ...defaultVmTemplate, firmware: "uefi" } }),
    ]);
    expect(apps[0]!.ARCHITECTURE).toBe("aarch64");
    const vm = parseVmTemplate(decode64(apps[0]!.VMTEMPLATE64));
    expect(vm).toMatchObject({
      SCHED_REQUIREMENTS: "HYPERVISOR=kvm & ARCH=aarch64",
      "OS/ARCH": "aarch64",
      "OS/MACHINE": "virt",
      "OS/FIRMWARE": "/usr/share/AAVMF/AAVMF_CODE.fd",
    });
  });

  it("offers an ISO as a CD-ROM in raw format, on a bus QEMU can attach a CD-ROM to", () => {
    const { index, apps } = appsFor([feedVersion({ format: "iso", virtualSize: 700 * 1024 * 1024 })]);
    expect(index.appliances[0]!.format).toBe("raw");
    expect(apps[0]!.SIZE).toBe("700");
    expect(parseAppTemplate(decode64(apps[0]!.APPTEMPLATE64))).toEqual({ DEV_PREFIX: "sd", TYPE: "CDROM" });
  });

  it("names formats as qemu-img does, which is what OpenNebula's image FORMAT holds", () => {
    const formats = (["qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi"] as const).map(
      (format, n) => applianceIndex([feedVersion({ format, version: `1.${n}` })], context).appliances[0]!.format,
    );
    expect(formats).toEqual(["qcow2", "raw", "vmdk", "vpc", "vhdx", "vdi"]);
  });

  it("adds one entry per offered channel that points at the channel's current version", () => {
    const current = feedVersion({ channels: ["stable", "latest"] });
    const older = feedVersion({ version: "12.6.0", createdAt: new Date("2026-10-01T00:00:00Z") });
    const { index, apps } = appsFor([older, current]);
    expect(index.appliances).toHaveLength(4);

    const stable = index.appliances.find((entry) => entry.name === "Hangar - Debian 12 base (stable)")!;
    expect(stable).toBeDefined();
    expect(stable.version).toBe("12.7.0");
    expect(stable.files[0].md5).toBe(current.md5);
    expect(stable._id.$oid).toBe(applianceId(current.versionId, "stable"));
    expect(parseApplianceId(stable._id.$oid)).toEqual({ versionId: current.versionId, channel: "stable" });
    expect(stable.tags).toContain("channel stable");

    // What the driver downloads for the channel resolves back to the version it announced.
    const app = apps.find((candidate) => candidate.NAME === stable.name)!;
    expect(matchOpenNebulaPath(app.SOURCE!.slice(endpoint.length))).toEqual({
      kind: "download",
      id: stable._id.$oid,
      versionId: current.versionId,
      channel: "stable",
    });
    // Its LINK (Sunstone's link for people) resolves to the same version's page.
    expect(matchOpenNebulaPath(app.LINK!.slice(endpoint.length))).toEqual({
      kind: "page",
      id: stable._id.$oid,
      versionId: current.versionId,
      channel: "stable",
    });
    expect(apps.map((candidate) => candidate.NAME).sort()).toEqual([
      "Hangar - Debian 12 base (latest)",
      "Hangar - Debian 12 base (stable)",
      "Hangar - Debian 12 base 12.6.0",
      "Hangar - Debian 12 base 12.7.0",
    ]);
  });

  it("shows a deprecated version's status where OpenNebula shows apps", () => {
    const entry = applianceIndex([feedVersion({ releaseStatus: "deprecated" })], context).appliances[0]!;
    expect(entry.short_description).toBe("Deprecated: Debian 12 base 12.7.0");
    expect(entry.tags).toContain("deprecated");
    expect(entry.description).toContain("Deprecated");
  });

  it("uses ids the driver can put in a URL as they are (monitor:178-179 does not escape them)", () => {
    const version = feedVersion({ channels: ["release/2026 ü:#?"] });
    for (const entry of applianceIndex([version], context).appliances) {
      expect(entry._id.$oid).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(parseApplianceId(entry._id.$oid)?.versionId).toBe(version.versionId);
    }
  });
});

describe("appliance names", () => {
  it("never emits a character OpenNebula forbids in names, nor more than 128 bytes", () => {
    const hostile = `Débian${openNebulaForbiddenNameChars}12 ${"ß".repeat(200)}`;
    const version = feedVersion({
      imageName: hostile,
      version: "1.0:beta;2",
      channels: ["a|b", "x".repeat(300)],
    });
    const { apps } = appsFor([version]);
    expect(apps).toHaveLength(3);
    for (const app of apps) {
      expect(nameIsValid(app.NAME!), app.NAME).toBe(true);
      for (const char of openNebulaForbiddenNameChars) expect(app.NAME).not.toContain(char);
      expect(Buffer.byteLength(app.NAME!)).toBeLessThanOrEqual(128);
    }
    expect(apps.some((app) => app.NAME!.endsWith(" (a-b)"))).toBe(true);
    expect(apps.some((app) => app.NAME!.endsWith(" 1.0-beta-2"))).toBe(true);
  });

  it("keeps names unique even when images share a name, differ only in case or accents, or clean to the same text", () => {
    const versions = [
      feedVersion({ imageId: "aaaaaaaa-0000-4000-8000-000000000001", publisher: "Team A" }),
      feedVersion({ imageId: "aaaaaaaa-0000-4000-8000-000000000002", publisher: "Team B" }),
      feedVersion({ imageId: "aaaaaaaa-0000-4000-8000-000000000003", publisher: "Team B" }),
      feedVersion({
        imageId: "aaaaaaaa-0000-4000-8000-000000000004",
        imageName: "DEBIAN 12 BASE",
        publisher: "Team C",
      }),
      feedVersion({
        imageId: "aaaaaaaa-0000-4000-8000-000000000005",
        imageName: "Débian 12 base",
        publisher: "Team D",
      }),
      feedVersion({ imageId: "aaaaaaaa-0000-4000-8000-000000000006", channels: ["a:b", "a;b"] }),
    ];
    const { apps } = appsFor(versions);
    const names = apps.map((app) => app.NAME!);
    // MySQL compares names without case or accents (oned's name lookups are plain SQL equality).
    const keys = names.map((name) => name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase());
    expect(new Set(keys).size).toBe(names.length);
    for (const name of names) expect(nameIsValid(name), name).toBe(true);
    expect(names).toContain("Hangar - Debian 12 base 12.7.0 [Team A]");
  });

  it("keeps a name stable when nothing collides, so oned updates the same app", () => {
    const version = feedVersion({ channels: ["stable"] });
    const first = applianceIndex([version], context).appliances.map((entry) => entry.name);
    const again = applianceIndex([feedVersion({ imageName: "Other" }), version], context).appliances.map((e) => e.name);
    expect(again).toEqual(expect.arrayContaining(first));
  });
});

describe("app names per feed", () => {
  const tokenFeed = (name: string): FeedContext => ({
    base: "https://hangar.example/feeds/hgf_x/",
    name,
    public: false,
  });
  const namesIn = (feed: FeedContext, versions: FeedVersion[]) =>
    monitor(endpoint, JSON.stringify(applianceIndex(versions, feed))).apps.map((app) => parseAppTemplate(app).NAME!);
  const mysqlKey = (name: string) => name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().trimEnd();

  it("a token feed's names carry the feed's name; the public feed's do not", () => {
    const version = feedVersion({ channels: ["stable"] });
    expect(namesIn(tokenFeed("Team A prod"), [version])).toEqual([
      "Hangar Team A prod - Debian 12 base (stable)",
      "Hangar Team A prod - Debian 12 base 12.7.0",
    ]);
    expect(namesIn(context, [version])).toEqual(["Hangar - Debian 12 base (stable)", "Hangar - Debian 12 base 12.7.0"]);
    expect(appNamePrefix(tokenFeed("Team A prod"))).toBe("Hangar Team A prod - ");
    expect(appNamePrefix({ name: "Public images", public: true })).toBe("Hangar - ");
  });

  it("two feeds offering the same image into one OpenNebula never share an app name, even as MySQL compares", () => {
    const version = feedVersion({ channels: ["latest", "stable"] });
    const names = [tokenFeed("Team A"), tokenFeed("Team B"), context].flatMap((feed) => namesIn(feed, [version]));
    expect(names).toHaveLength(9);
    expect(new Set(names.map(mysqlKey)).size).toBe(names.length);
  });

  it("is the same for the same feed every time, whatever else the feed offers", () => {
    const feed = tokenFeed("Ops");
    const version = feedVersion({ channels: ["stable"] });
    const alone = namesIn(feed, [version]);
    expect(namesIn(feed, [version])).toEqual(alone);
    expect(
      namesIn(feed, [feedVersion({ imageName: "Other", versionId: "0b7c7a52-3c1e-4c4e-9a3f-2f1d8e6b9c02" }), version]),
    ).toEqual(expect.arrayContaining(alone));
  });

  it("cleans a feed name OpenNebula would refuse, and keeps a long one to 40 bytes so the image's name still shows", () => {
    const hostile = tokenFeed('ops: "prod" #1 {eu}');
    const forbidden = tokenFeed(`x${openNebulaForbiddenNameChars}y`);
    const long = tokenFeed("ß".repeat(120));
    const longImage = feedVersion({ imageName: "Image ".repeat(40), channels: ["stable"] });
    for (const feed of [hostile, forbidden, long]) {
      for (const name of namesIn(feed, [feedVersion({ channels: ["stable"] }), longImage])) {
        expect(nameIsValid(name), name).toBe(true);
        expect(name).toMatch(/ \(stable\)$| 12\.7\.0$/);
      }
    }
    expect(appNamePrefix(hostile)).toBe("Hangar ops- -prod- -1 -eu- - ");
    const prefix = appNamePrefix(long);
    expect(Buffer.byteLength(prefix.slice("Hangar ".length, -" - ".length))).toBeLessThanOrEqual(40);
    expect(prefix).toMatch(/^Hangar ß+… - $/);
    expect(namesIn(long, [longImage])[0]).toMatch(/^Hangar ß+… - Image Image .*… \(stable\)$/);
  });
});

describe("text the driver prints into the app template", () => {
  it("cannot break oned's template lexer: a trailing backslash, quotes, ]]> and newlines", () => {
    const version = feedVersion({
      publisher: 'Ops "core" team\\',
      imageName: "Debian ]]> base",
      version: "12.7.0\\",
      tags: ["a\\", "multi\nline", "x,y"],
    });
    const entry = applianceIndex([version], context).appliances[0]!;
    // The lexer misreads a value that ends in a backslash: it swallows the next attribute.
    const broken = parseAppTemplate(`PUBLISHER="ends\\"\nFORMAT="qcow2"\n`);
    expect(broken.FORMAT).toBeUndefined();

    const app = parseAppTemplate(monitor(endpoint, JSON.stringify({ appliances: [entry] })).apps[0]!);
    expect(app.PUBLISHER).toBe('Ops "core" team');
    expect(app.VERSION).toBe("12.7.0");
    expect(app.FORMAT).toBe("qcow2");
    expect(app.MD5).toBe(version.md5);
    expect(app.TAGS).not.toContain("\n");
    expect(entry.tags).toContain("x y");
    expect(Object.values(app).join("\n")).not.toContain("]]>");
  });
});

describe("matchOpenNebulaPath", () => {
  const versionId = "0b7c7a52-3c1e-4c4e-9a3f-2f1d8e6b9c01";

  it("answers the index at appliance and at the //appliance OpenNebula 7 asks for", () => {
    // monitor:67 adds "/" to the ENDPOINT, 168 then asks for "/appliance": ".../opennebula//appliance".
    const { requested } = monitor(endpoint, JSON.stringify({ appliances: [] }));
    expect(requested).toBe(`${endpoint}/appliance`);
    expect(matchOpenNebulaPath(requested.slice(endpoint.length))).toEqual({ kind: "index" });
    for (const tail of ["appliance", "/appliance", "appliance/", "//appliance"]) {
      expect(matchOpenNebulaPath(tail), tail).toEqual({ kind: "index" });
    }
    expect(matchOpenNebulaPath(["", "appliance"])).toEqual({ kind: "index" });
    expect(matchOpenNebulaPath(["appliance"])).toEqual({ kind: "index" });
  });

  it("resolves the fixed download path the driver builds (monitor:178-179)", () => {
    expect(applianceDownloadPath(versionId)).toBe(`appliance/${versionId}/download/0`);
    expect(matchOpenNebulaPath(applianceDownloadPath(versionId))).toEqual({
      kind: "download",
      id: versionId,
      versionId,
    });
    expect(matchOpenNebulaPath(["appliance", versionId, "download", "0"])).toMatchObject({ kind: "download" });
    expect(matchOpenNebulaPath(`/appliance/${versionId.toUpperCase()}/download/0`)).toMatchObject({ versionId });
    const channelId = applianceId(versionId, "stable");
    expect(matchOpenNebulaPath(applianceDownloadPath(channelId))).toEqual({
      kind: "download",
      id: channelId,
      versionId,
      channel: "stable",
    });
  });

  it("resolves an app's LINK, appliance/<id> (monitor:178), to its page", () => {
    for (const tail of [`appliance/${versionId}`, `//appliance/${versionId}/`, ["appliance", versionId]]) {
      expect(matchOpenNebulaPath(tail)).toEqual({ kind: "page", id: versionId, versionId });
    }
    expect(matchOpenNebulaPath(`appliance/${applianceId(versionId, "stable")}`)).toEqual({
      kind: "page",
      id: applianceId(versionId, "stable"),
      versionId,
      channel: "stable",
    });
  });

  it("answers nothing else", () => {
    for (const tail of [
      "",
      "appliances",
      "appliance/not-an-id",
      `appliance/${versionId}/other`,
      `appliance/${versionId}/download/1`,
      `appliance/${versionId}/download/0/extra`,
      "appliance/not-an-id/download/0",
      `appliance/${versionId}.c3RhYmxl=/download/0`,
      `appliance/${versionId}.!!/download/0`,
      `appliance/${versionId}.a.b/download/0`,
      `appliance/../download/0`,
    ]) {
      expect(matchOpenNebulaPath(tail), tail).toBeNull();
    }
  });
});

describe("validateOpenNebulaTemplate", () => {
  it("finds nothing wrong with the default template and a plain name", () => {
    expect(validateOpenNebulaTemplate(defaultVmTemplate, "Debian 12 base")).toEqual([]);
  });

  it("names the characters OpenNebula refuses", () => {
    const problems = validateOpenNebulaTemplate(defaultVmTemplate, "Debian: base #1");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(": #");
    expect(problems[0]).toContain('"Debian- base -1"');
  });

  it("says by how much a name is too long", () => {
    const problems = validateOpenNebulaTemplate(defaultVmTemplate, "x".repeat(130));
    expect(problems).toEqual([
      expect.stringMatching(/too long for OpenNebula.*148 bytes.*shorten the image name by 20 /),
    ]);
  });

  it("refuses values outside sane ranges and values that are not what the form offers", () => {
    const bad = {
      vcpu: 1.5,
      memoryMiB: 16,
      diskBus: "nvme",
      firmware: "coreboot",
      context: { network: "yes", sshKey: true, rootPassword: "hunter2" },
    } as unknown as VmTemplate;
    const problems = validateOpenNebulaTemplate(bad, "Debian");
    expect(problems).toEqual([
      "vCPUs must be a whole number from 1 to 256.",
      "Memory must be a whole number of MiB from 64 MiB to 4 TiB (4194304 MiB).",
      "The disk bus must be one of virtio, scsi, sata, ide.",
      "The firmware must be one of bios, uefi.",
      "Say whether the VM gets its network and SSH key from OpenNebula's context (yes or no).",
      "The root password policy must be one of locked, random, from-context.",
    ]);
    expect(validateOpenNebulaTemplate({ ...defaultVmTemplate, vcpu: 0 }, "Debian")).toHaveLength(1);
    expect(validateOpenNebulaTemplate({ ...defaultVmTemplate, vcpu: 257 }, "Debian")).toHaveLength(1);
  });

  it("catches template shapes the driver would drop", () => {
    expect(templateShapeProblems({ CPU: 1, OS: { ARCH: "" }, CONTEXT: { NOTE: 'say "hi"' }, lower: "x" })).toEqual([
      "CPU is not text; OpenNebula would drop the whole template.",
      "OS/ARCH is empty; OpenNebula would leave it out.",
      "CONTEXT/NOTE contains a quote or backslash, which OpenNebula would misread.",
      "lower is not an OpenNebula attribute name.",
    ]);
  });
});

describe("the text an operator pastes", () => {
  it("creates a marketplace whose ENDPOINT leads the driver to this feed's index", () => {
    const text = onemarketCreateTemplate("https://hangar.example/feeds/s3cr3t/", "Hangar: ops");
    expect(text).toBe(
      [
        'NAME = "Hangar- ops"',
        'MARKET_MAD = "one"',
        'ENDPOINT = "https://hangar.example/feeds/s3cr3t/opennebula/"',
        'DESCRIPTION = "Images published by Hangar, read-only"',
        "",
      ].join("\n"),
    );
    const parsed = parseAppTemplate(text);
    expect(parsed.MARKET_MAD).toBe("one");
    expect(nameIsValid(parsed.NAME!)).toBe(true);
    // monitor:346 reads MARKETPLACE/TEMPLATE/ENDPOINT; the index request must land on our router.
    const { requested } = monitor(parsed.ENDPOINT!, JSON.stringify({ appliances: [] }));
    expect(matchOpenNebulaPath(requested.slice(endpoint.length))).toEqual({ kind: "index" });
    // A feed URL given without its trailing slash makes the same ENDPOINT.
    expect(onemarketCreateTemplate("https://hangar.example/feeds/s3cr3t", "ops")).toContain(`ENDPOINT = "${endpoint}"`);
  });

  it("wraps the template in a paste that writes it and runs onemarket create", () => {
    expect(onemarketCreateCommand(context.base, "ops")).toBe(
      `cat > hangar-marketplace.tmpl <<'EOF'\n${onemarketCreateTemplate(context.base, "ops")}EOF\n` +
        "onemarket create hangar-marketplace.tmpl\n",
    );
  });

  it("exports an app by its name into a datastore (onemarketapp export <app> <name> --datastore)", () => {
    expect(onemarketappExportCommand("Hangar - Debian 12 base (stable)", "debian-12-base")).toBe(
      "onemarketapp export 'Hangar - Debian 12 base (stable)' 'debian-12-base' --datastore 'default'",
    );
    expect(onemarketappExportCommand("Hangar - X 1.0", "x: 1", "images-ssd")).toBe(
      "onemarketapp export 'Hangar - X 1.0' 'x- 1' --datastore 'images-ssd'",
    );
  });
});

/** VMTEMPLATE64 as flat "SECTION/KEY" → value, the way oned would hold it. */
function parseVmTemplate(text: string): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const match of text.matchAll(/([A-Z0-9_]+) = (?:"([^"]*)"|\[ ((?:"[^"]*"|[^\]"])*)\])/g)) {
    if (match[2] !== undefined) flat[match[1]!] = match[2];
    else for (const pair of match[3]!.matchAll(/([A-Z0-9_]+) ?="([^"]*)"/g)) flat[`${match[1]}/${pair[1]}`] = pair[2]!;
  }
  return flat;
}
