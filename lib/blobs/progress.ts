// Progress of a long copy or check: on a terminal, one bar redrawn in place (blobs, bytes, rate,
// time left); otherwise plain lines at most once a second, so a log or a pipe stays readable.

export interface ProgressSink {
  /** A terminal to redraw a bar on, or null for plain lines. */
  tty: { write(text: string): void; columns?: number } | null;
  line: (text: string) => void;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
}

export interface Progress {
  /** `bytes` more went through; `blobDone` when a blob finished. */
  advance(bytes: number, blobDone?: boolean): void;
  /** Ends the bar (a newline on a terminal). */
  finish(): void;
}

export function createProgress({
  verb,
  blobs,
  bytes,
  sink,
  now = () => Date.now(),
}: {
  verb: string;
  blobs: number;
  bytes: number;
  sink: ProgressSink;
  now?: () => number;
}): Progress {
  const started = now();
  let doneBlobs = 0;
  let doneBytes = 0;
  let lastDraw = 0;
  let drawn = false;
  let lastLine = "";
  const describe = () => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? doneBytes / elapsed : 0;
    const left = rate > 0 ? (bytes - doneBytes) / rate : Infinity;
    return {
      counts: `${doneBlobs}/${blobs} blobs, ${formatBytes(doneBytes)}/${formatBytes(bytes)}`,
      speed: `${formatBytes(rate)}/s, ETA ${doneBytes >= bytes ? "0:00" : formatDuration(left)}`,
    };
  };
  const draw = (force: boolean) => {
    const at = now();
    if (!force && at - lastDraw < (sink.tty ? 200 : 1000)) return;
    lastDraw = at;
    const { counts, speed } = describe();
    if (sink.tty) {
      const fraction = bytes > 0 ? doneBytes / bytes : blobs > 0 ? doneBlobs / blobs : 1;
      const width = 24;
      const filled = Math.min(width, Math.round(fraction * width));
      const text = `${verb} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${counts}, ${speed}`;
      sink.tty.write(`\r${text.slice(0, (sink.tty.columns ?? 120) - 1)}\x1b[K`);
      drawn = true;
    } else if (`${counts}` !== lastLine) {
      lastLine = counts;
      sink.line(`${verb} ${counts}, ${speed}`);
    }
  };
  return {
    advance(more, blobDone = false) {
      doneBytes += more;
      if (blobDone) doneBlobs += 1;
      draw(blobDone && doneBlobs === 1);
    },
    finish() {
      if (sink.tty) {
        draw(true);
        if (drawn) sink.tty.write("\n");
      } else if (doneBlobs > 0) draw(true);
    },
  };
}
