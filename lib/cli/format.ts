// Human output: byte sizes, rates, ETAs, the one-line progress meter and aligned tables.
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

export const formatRate = (bytesPerSecond: number) => `${formatBytes(Math.round(bytesPerSecond))}/s`;

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const whole = Math.ceil(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  const mmss = `${String(minutes).padStart(2, "0")}:${String(rest).padStart(2, "0")}`;
  return hours ? `${hours}:${mmss}` : mmss;
}

/** One progress line: done/total (percent), rate and time left at that rate. */
export function progressLine({ done, total, rate }: { done: number; total: number | null; rate: number }): string {
  if (!total) return `${formatBytes(done)}  ${formatRate(rate)}`;
  const percent = Math.min(100, Math.floor((done / total) * 100));
  const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
  return `${formatBytes(done)} / ${formatBytes(total)} (${percent}%)  ${formatRate(rate)}  ETA ${formatEta(eta)}`;
}

/**
 * A progress meter redrawn in place on a terminal at most every 200 ms; silent otherwise, so
 * scripts and CI logs get no carriage-return noise. The rate counts only this run's bytes, not a
 * resumed prefix.
 */
export function progressMeter({
  enabled,
  write,
  label,
  total,
  startAt = 0,
}: {
  enabled: boolean;
  write: (text: string) => void;
  label: string;
  total: number | null;
  startAt?: number;
}) {
  const started = Date.now();
  let last = 0;
  const draw = (done: number, now: number) => {
    const rate = (done - startAt) / Math.max((now - started) / 1000, 0.001);
    write(`\r\x1b[2K${label} ${progressLine({ done, total, rate })}`);
  };
  return {
    update(done: number) {
      const now = Date.now();
      if (!enabled || now - last < 200) return;
      last = now;
      draw(done, now);
    },
    finish(done: number) {
      if (!enabled) return;
      draw(done, Date.now());
      write("\n");
    },
  };
}

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [
    headers,
    ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? "-" : String(cell)))),
  ];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
