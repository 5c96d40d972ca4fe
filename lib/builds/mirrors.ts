// Which package mirrors a build may reach when HANGAR_BUILD_MIRRORS is not set: the usual mirrors
// of the distributions people build on, plus every host in this machine's own apt sources (often a
// local or company mirror the operator already trusts). Redirects to other hosts are not followed
// by the proxy: the guest's package manager asks again, and that host is checked like any other.
// Distributions that pick mirrors from a mirror list (Fedora, Rocky, AlmaLinux) have no fixed host
// to put here; their operators list the mirrors they use.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const WELL_KNOWN_MIRRORS = [
  "deb.debian.org",
  "security.debian.org",
  "archive.ubuntu.com",
  ".archive.ubuntu.com",
  "security.ubuntu.com",
  "ports.ubuntu.com",
  "dl-cdn.alpinelinux.org",
];

/** The repository URIs in apt's sources (one-line `.list` and deb822 `.sources` files). */
export function aptSourceUris(root = "/etc/apt"): string[] {
  const files = [path.join(root, "sources.list")];
  try {
    for (const name of readdirSync(path.join(root, "sources.list.d")).sort()) {
      if (name.endsWith(".list") || name.endsWith(".sources")) files.push(path.join(root, "sources.list.d", name));
    }
  } catch {
    // no sources.list.d
  }
  const uris: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      const oneLine = /^deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      const deb822 = /^URIs:\s*(.+)$/i.exec(line);
      if (oneLine) uris.push(oneLine[1]!);
      else if (deb822) uris.push(...deb822[1]!.split(/\s+/));
    }
  }
  return uris.filter((uri) => /^https?:\/\//.test(uri));
}

export function defaultMirrorHosts(): string[] {
  const hosts = aptSourceUris().map((uri) => new URL(uri).hostname);
  return [...new Set([...WELL_KNOWN_MIRRORS, ...hosts])];
}
