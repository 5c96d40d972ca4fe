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

const byteSuffixes: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

/**
 * A byte size as people and qemu-img write it: plain bytes ("2199023255552") or a number with a
 * binary suffix ("2T", "512G", "1.5T", "512GiB"; K/M/G/T/P, each a power of 1024). Null when the
 * text is not a size or the result is not a whole number of bytes JavaScript can hold exactly.
 */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) return null;
  const bytes = Number(match[1]) * byteSuffixes[match[2]!.toUpperCase()]!;
  return Number.isSafeInteger(bytes) ? bytes : null;
}
/** "30 minutes", "1 hour 30 minutes", "45 seconds". */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 3600), "hour"],
    [Math.floor((seconds % 3600) / 60), "minute"],
    [seconds % 60, "second"],
  ];
  const words = parts
    .filter(([count]) => count > 0)
    .map(([count, unit]) => `${count} ${unit}${count === 1 ? "" : "s"}`);
  return words.join(" ") || "0 seconds";
}

export type Acceleration = "kvm" | "tcg";

/** How guests run, as the build page and the worker's log say it. */
export const accelerationLabels: Record<Acceleration, string> = {
  kvm: "KVM (hardware)",
  tcg: "TCG (software emulation)",
};

// UTC so the text is the same wherever it is rendered; the zone is printed so nobody guesses.
const absolute = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});

export function formatDateTime(date: Date): string {
  return `${absolute.format(date)} UTC`;
}
