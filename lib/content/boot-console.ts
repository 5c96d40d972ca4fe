// What a boot test reads from a guest's serial console, and when it has seen enough. The console is
// hostile input: escape sequences and control characters are dropped before anything is stored or
// shown, and lines are cut to a bounded length. The success condition is a login prompt on the
// console by default, or a marker the image prints (a literal text, never a pattern).

/** Stored as a boot test's success pattern when the image has no marker: a login prompt. */
export const LOGIN_PROMPT_PATTERN = "<login prompt>";
// "<hostname> login: " at the start of a line; the kernel may print on the same line right after it.
const LOGIN_PROMPT = /^(?!Last login:)(\S+ )?login:(\s|$)/;
export const MAX_CONSOLE_LINE = 2000;

/** Lines of the kernel or firmware that mean the boot has failed for good. */
const FATAL_LINES: { pattern: RegExp; reason: (line: string) => string }[] = [
  { pattern: /Kernel panic - not syncing/, reason: (line) => `The guest's kernel panicked: ${line}` },
  {
    pattern: /^No bootable device\b|Boot failed: not a bootable disk|Boot failed: could not read the boot disk/,
    reason: (line) => `The firmware found nothing to boot: ${line}`,
  },
];

/** In words, for the page and the log: what counts as success. */
export function describeSuccess(pattern: string): string {
  return pattern === LOGIN_PROMPT_PATTERN ? "a login prompt on the serial console" : `the line “${pattern}”`;
}

/** The success check for a stored pattern: a login prompt, or a line containing the marker text. */
export function successMatcher(pattern: string): (line: string) => boolean {
  if (pattern === LOGIN_PROMPT_PATTERN) return (line) => LOGIN_PROMPT.test(line);
  return (line) => line.includes(pattern);
}

/** Why this console line ends the boot as a failure, or null. */
export function fatalLine(line: string): string | null {
  for (const { pattern, reason } of FATAL_LINES) if (pattern.test(line)) return reason(line.trim());
  return null;
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-character escapes, and C1 CSI.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// Every control character but tab and newline (carriage returns are handled before).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** One console line as it is stored and shown: no escapes, no control characters, bounded. */
export function cleanConsoleLine(raw: string): string {
  return raw.replace(ESCAPES, "").replace(CONTROLS, "").replace(/\t/g, "    ").trimEnd().slice(0, MAX_CONSOLE_LINE);
}

/**
 * Splits console output into clean lines as it arrives. A carriage return ends a line too (serial
 * consoles send \r\n; progress lines redraw with \r). `partial` is the unfinished last line: a
 * login prompt is printed without a newline, so it is checked as well.
 */
export class ConsoleLines {
  private buffer = "";

  /** The complete lines in `text` (with what was pending before it), cleaned; empty ones dropped. */
  push(text: string): string[] {
    this.buffer += text;
    const parts = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = parts.pop() ?? "";
    // A guest that never ends a line can't grow the buffer without bound.
    if (this.buffer.length > 4 * MAX_CONSOLE_LINE) {
      parts.push(this.buffer);
      this.buffer = "";
    }
    return parts.map(cleanConsoleLine).filter((line) => line.length > 0);
  }

  /** The unfinished line so far, cleaned. */
  get partial(): string {
    return cleanConsoleLine(this.buffer);
  }

  /** The unfinished line, cleaned, taken out (it is not returned again). */
  takePartial(): string {
    const partial = cleanConsoleLine(this.buffer);
    this.buffer = "";
    return partial;
  }

  /** Ends the stream: the unfinished line, if any. */
  end(): string[] {
    const rest = cleanConsoleLine(this.buffer);
    this.buffer = "";
    return rest ? [rest] : [];
  }
}
