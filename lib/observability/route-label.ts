// The `route` label of the HTTP metrics and access log. A label value per distinct path would let
// any client grow the metrics without bound (ids, slugs, made-up URLs), so a path is reduced to
// the static segment names of Hangar's own routes: every other segment becomes `:id`.
import { readdirSync } from "node:fs";
import path from "node:path";

const MAX_DEPTH = 8;
/** Paths the HTTP server answers itself, outside app/. */
const SERVER_SEGMENTS = ["healthz", "readyz", "metrics", "api", "uploads"];

/** Static segment names of the routes under `appDir` (dynamic `[x]`, groups, slots and private folders skipped). */
export function routeSegmentsOf(appDir: string): Set<string> {
  const segments = new Set(SERVER_SEGMENTS);
  const walk = (directory: string, top: boolean) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        const name = entry.name;
        if (!/^[[(@_]/.test(name)) segments.add(name);
        walk(path.join(directory, name), false);
      } else if (top && !/\.(tsx?|jsx?|css)$/.test(entry.name)) {
        // Metadata files at the root are routes of their own (icon.svg, favicon.ico).
        segments.add(entry.name);
      }
    }
  };
  walk(appDir, true);
  return segments;
}

export function routeLabel(pathname: string, known: ReadonlySet<string>): string {
  if (pathname.startsWith("/_next/")) return "/_next";
  const parts = pathname.split("/").filter(Boolean);
  const label = parts.slice(0, MAX_DEPTH).map((part) => (known.has(part) ? part : ":id"));
  if (parts.length > MAX_DEPTH) label.push("…");
  return `/${label.join("/")}`;
}
