const byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units, as disk tools print them: 67108864 → "64 MiB", 1610612736 → "1.5 GiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits))} ${byteUnits[unit]}`;
}

const sizeSuffixes: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "20G", "512M", "4096": a whole number of bytes with an optional binary suffix; null when not one. */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+)([KMGT]?)$/.exec(text.trim());
  if (!match) return null;
  const bytes = Number(match[1]) * sizeSuffixes[match[2]!]!;
  return Number.isSafeInteger(bytes) ? bytes : null;
}
