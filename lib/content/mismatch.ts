// Where what people typed about an image (OS, version, architecture) contradicts what inspection
// read out of its bytes, in plain words. Tolerant by design: case, spelling variants and aliases
// (amd64 = x86_64, "Debian GNU/Linux" = debian, bookworm = 12) never warn, and a typed value that
// names no known OS or a detected value that is missing never warns either.

export interface TypedFacts {
  os: string;
  osVersion: string;
  arch: string;
}

export interface DetectedFacts {
  osFound?: boolean | null;
  distro: string | null;
  productName?: string | null;
  osVersion: string | null;
  arch: string | null;
}

// Most specific first: "Red Hat Enterprise Linux" must not be read as something shorter.
const distroPatterns: [RegExp, string, string][] = [
  [/\bubuntu\b/, "ubuntu", "Ubuntu"],
  [/\bdebian\b/, "debian", "Debian"],
  [/\b(red ?hat|rhel)\b/, "rhel", "Red Hat Enterprise Linux"],
  [/\bcentos\b/, "centos", "CentOS"],
  [/\brocky\b/, "rocky", "Rocky Linux"],
  [/\balma ?linux\b|\balma\b/, "almalinux", "AlmaLinux"],
  [/\bfedora\b/, "fedora", "Fedora"],
  [/\bopensuse\b/, "opensuse", "openSUSE"],
  [/\b(sles|suse linux enterprise|suse)\b/, "sles", "SUSE Linux Enterprise"],
  [/\balpine\b/, "alpine", "Alpine Linux"],
  [/\barch ?linux\b|^arch$/, "archlinux", "Arch Linux"],
  [/\bgentoo\b/, "gentoo", "Gentoo"],
  [/\b(amazon|amzn)\b/, "amazon", "Amazon Linux"],
  [/\boracle\b|\bol\b/, "oraclelinux", "Oracle Linux"],
  [/\bwindows\b/, "windows", "Windows"],
  [/\bfreebsd\b/, "freebsd", "FreeBSD"],
  [/\bopenbsd\b/, "openbsd", "OpenBSD"],
];

/** A known distribution's canonical id and display name, or null for anything else ("Linux", "Other"). */
export function canonicalDistro(text: string | null | undefined): { id: string; name: string } | null {
  if (!text) return null;
  const lower = text.toLowerCase().replace(/[_-]+/g, " ").trim();
  for (const [pattern, id, name] of distroPatterns) if (pattern.test(lower)) return { id, name };
  return null;
}

const archAliases: Record<string, string> = {
  x86_64: "x86_64",
  "x86-64": "x86_64",
  amd64: "x86_64",
  x64: "x86_64",
  aarch64: "aarch64",
  arm64: "aarch64",
  armv8: "aarch64",
  i386: "i386",
  i486: "i386",
  i586: "i386",
  i686: "i386",
  x86: "i386",
  armhf: "armv7l",
  armv7l: "armv7l",
  armv7: "armv7l",
  ppc64le: "ppc64le",
  ppc64el: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** The canonical architecture name, or the lower-cased text when it is not a known alias. */
export function canonicalArch(text: string | null | undefined): string | null {
  if (!text?.trim()) return null;
  const lower = text.trim().toLowerCase();
  return archAliases[lower] ?? lower;
}

// Release code names people type instead of numbers.
const codenames: Record<string, string> = {
  buster: "10",
  bullseye: "11",
  bookworm: "12",
  trixie: "13",
  bionic: "18.04",
  focal: "20.04",
  jammy: "22.04",
  noble: "24.04",
};

function versionParts(text: string | null | undefined): number[] | null {
  if (!text) return null;
  const lower = text.toLowerCase();
  const named = Object.entries(codenames).find(([name]) => new RegExp(`\\b${name}\\b`).test(lower));
  const match = /(\d+(?:\.\d+)*)/.exec(named ? named[1] : lower);
  if (!match?.[1]) return null;
  // "12.0" says no more than "12": inspection often reports a minor version of 0 it doesn't know.
  const parts = match[1].split(".").map(Number);
  while (parts.length > 1 && parts.at(-1) === 0) parts.pop();
  return parts;
}

/** Versions agree when one is a prefix of the other, numerically (12 = 12.5 = 12.0, 24.04 = 24.4, 12 ≠ 24.04). */
function sameVersion(typed: number[], detected: number[]): boolean {
  const common = Math.min(typed.length, detected.length);
  for (let index = 0; index < common; index += 1) if (typed[index] !== detected[index]) return false;
  return true;
}

function label(name: string, version: string | null | undefined): string {
  return version ? `${name} ${version}` : name;
}

/** Plain-language warnings, one per contradiction; empty when nothing contradicts. */
export function contentMismatches(typed: TypedFacts, detected: DetectedFacts): string[] {
  const warnings: string[] = [];
  if (detected.osFound === false) return warnings;
  const typedDistro = canonicalDistro(typed.os);
  const detectedDistro = canonicalDistro(detected.distro) ?? canonicalDistro(detected.productName);
  const typedVersionText = typed.osVersion.trim() || (/\d/.test(typed.os) ? typed.os : "");
  const typedVersion = versionParts(typedVersionText);
  const detectedVersion = versionParts(detected.osVersion);
  const typedLabel = label(typed.os.trim(), typed.osVersion.trim());
  const detectedName = detectedDistro?.name ?? detected.distro ?? "";
  const detectedLabel = label(detectedName, detected.osVersion);
  if (typedDistro && detectedDistro && typedDistro.id !== detectedDistro.id) {
    warnings.push(`The OS is given as ${typedLabel}, but ${detectedLabel} was found inside the image.`);
  } else if (
    typedDistro &&
    detectedDistro &&
    typedVersion &&
    detectedVersion &&
    !sameVersion(typedVersion, detectedVersion)
  ) {
    warnings.push(`The OS version is given as ${typedLabel}, but ${detectedLabel} was found inside the image.`);
  }
  const typedArch = canonicalArch(typed.arch);
  const detectedArch = canonicalArch(detected.arch);
  if (typedArch && detectedArch && typedArch !== detectedArch) {
    warnings.push(
      `The architecture is given as ${typed.arch.trim()}, but the image holds ${detected.arch?.trim()} binaries.`,
    );
  }
  return warnings;
}
