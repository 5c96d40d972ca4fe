// HTTP Range (RFC 9110 §14) for downloads: one byte range, or the whole file. Several ranges in one
// request are answered with the whole file, which the RFC allows.
export type RangeResult =
  { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" };

export function parseRange(header: string | null, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match)
    return header.trim().startsWith("bytes=") && header.includes(",") ? { kind: "full" } : { kind: "unsatisfiable" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "unsatisfiable" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}

/** A download file name from display metadata: never a path, never a header injection. */
export function contentDisposition(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? "";
  const ascii =
    base
      .replace(/[^A-Za-z0-9._+-]/g, "_")
      .replace(/^\.+/, "")
      .slice(0, 150) || "image";
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base.slice(0, 150) || ascii)}`;
}
